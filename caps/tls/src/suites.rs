//! The cipher suites the cap has (ring's), their IANA and OpenSSL names, and
//! the crypto provider restricted to a chosen set of them.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::SupportedCipherSuite;

use crate::error;
use crate::{CipherInfo, Error};

/// One suite: its IANA code point and names, and its key size in bits.
pub struct SuiteName {
    pub code: u16,
    pub iana: &'static str,
    pub openssl: &'static str,
    pub bits: u32,
}

const fn suite(code: u16, iana: &'static str, openssl: &'static str, bits: u32) -> SuiteName {
    SuiteName {
        code,
        iana,
        openssl,
        bits,
    }
}

/// Every suite ring's provider has (TLS 1.3 first, then TLS 1.2).
pub const SUITES: &[SuiteName] = &[
    suite(
        0x1301,
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_GCM_SHA256",
        128,
    ),
    suite(
        0x1302,
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_256_GCM_SHA384",
        256,
    ),
    suite(
        0x1303,
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
        256,
    ),
    suite(
        0xc02b,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        128,
    ),
    suite(
        0xc02c,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        256,
    ),
    suite(
        0xcca9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        256,
    ),
    suite(
        0xc02f,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        128,
    ),
    suite(
        0xc030,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        256,
    ),
    suite(
        0xcca8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        256,
    ),
];

/// The names of a rustls suite (None for a suite this table lacks).
pub fn lookup(s: &SupportedCipherSuite) -> Option<&'static SuiteName> {
    let code = u16::from(s.suite());
    SUITES.iter().find(|n| n.code == code)
}

/// `SSLSocket.cipher()`'s view of a suite.
pub fn info(s: &SupportedCipherSuite) -> CipherInfo {
    match lookup(s) {
        Some(n) => CipherInfo {
            name: n.iana.to_string(),
            openssl_name: n.openssl.to_string(),
            secret_bits: n.bits,
        },
        None => {
            let name = format!("{:?}", s.suite());
            CipherInfo {
                openssl_name: name.clone(),
                name,
                secret_bits: 0,
            }
        }
    }
}

/// Whether `name` (IANA or OpenSSL spelling, any case) is this suite's.
fn matches(s: &SupportedCipherSuite, name: &str) -> bool {
    lookup(s)
        .is_some_and(|n| name.eq_ignore_ascii_case(n.iana) || name.eq_ignore_ascii_case(n.openssl))
}

/// Whether a suite encrypts with ChaCha20-Poly1305.
fn is_chacha20(s: &SupportedCipherSuite) -> bool {
    matches!(
        u16::from(s.suite()),
        0x1303 | 0xcca8 | 0xcca9 // TLS 1.3, ECDHE-RSA, ECDHE-ECDSA
    )
}

/// ring's provider with only the suites named in `names` (all when empty),
/// ChaCha20-Poly1305 preferred. Unknown names are ignored; none known is
/// `NO_CIPHER_MATCH`.
///
/// Why ChaCha20 first: inside wasm, ring has no AES instructions and falls
/// back to constant-time AES in plain code, while ChaCha20-Poly1305 is fast
/// in plain code. Measured downloading 50 MB from `openssl s_server` into
/// pylon.wasm: 134 MB/s with TLS_CHACHA20_POLY1305_SHA256, 55 with
/// TLS_AES_128_GCM_SHA256, 46 with TLS_AES_256_GCM_SHA384 (BENCHMARKS.md).
/// It is the choice TLS stacks make on hardware without AES acceleration.
pub fn provider(names: &[String]) -> Result<Arc<CryptoProvider>, Error> {
    let mut provider = rustls::crypto::ring::default_provider();
    // Stable: the order within each group stays ring's.
    provider.cipher_suites.sort_by_key(|s| !is_chacha20(s));
    if !names.is_empty() {
        provider
            .cipher_suites
            .retain(|s| names.iter().any(|n| matches(s, n.trim())));
        if provider.cipher_suites.is_empty() {
            return Err(error::invalid(
                "NO_CIPHER_MATCH",
                "No cipher can be selected.",
            ));
        }
    }
    Ok(Arc::new(provider))
}
