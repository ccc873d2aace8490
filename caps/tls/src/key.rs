//! Password-protected private keys (`load_cert_chain(password=…)`), in the
//! two forms OpenSSL writes them:
//!
//! - PKCS#8 `EncryptedPrivateKeyInfo` (PEM label `ENCRYPTED PRIVATE KEY`):
//!   what OpenSSL 1.1+ (`genpkey -aes256`, `pkcs8 -topk8`), Python's
//!   `cryptography` and most tools write today. PBES2 with PBKDF2 (HMAC-SHA1
//!   or -SHA2) or scrypt, and AES-CBC or DES-EDE3-CBC, through the `pkcs8`
//!   crate. PBES1 (MD5/SHA1 with DES or RC2) is refused as `unsupported`.
//! - OpenSSL's legacy PEM encryption (`Proc-Type: 4,ENCRYPTED` and
//!   `DEK-Info: <cipher>,<hex IV>` headers on an `RSA`/`EC PRIVATE KEY`
//!   block), which `genrsa -des3` of OpenSSL 1.0 and many older keys use.
//!   The key is OpenSSL's `EVP_BytesToKey` with MD5, one round, the IV's
//!   first 8 bytes as salt.
//!
//! The result is the plain key's DER, which [`crate::config::private_key`]
//! reads like any other.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockSizeUser, KeyIvInit};
use md5::{Digest, Md5};

use crate::{error, Error, ErrorKind};

/// `decrypt-private-key`: the plain DER of `der`, a PKCS#8
/// `EncryptedPrivateKeyInfo` when `dek_info` is `None`, else the body of a
/// legacy encrypted PEM block whose `DEK-Info` header is `dek_info`.
pub fn decrypt(der: &[u8], dek_info: Option<&str>, password: &[u8]) -> Result<Vec<u8>, Error> {
    match dek_info {
        None => decrypt_pkcs8(der, password),
        Some(info) => decrypt_legacy(der, info, password),
    }
}

/// A wrong password, as OpenSSL says it.
fn bad_decrypt() -> Error {
    error::bad_data(
        "BAD_DECRYPT",
        "bad decrypt: the password does not decrypt the private key",
    )
}

fn decrypt_pkcs8(der: &[u8], password: &[u8]) -> Result<Vec<u8>, Error> {
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(|e| {
        match algorithm_oid(der) {
            // It parses as far as its algorithm, which is not PBES2: PKCS#12's
            // PBE (`openssl pkcs8 -v1 PBE-SHA1-3DES`, Java's keytool) and the
            // like, which the pkcs5 crate does not read at all.
            Some(oid) if oid != PBES2 => unsupported_algorithm(oid),
            _ => error::bad_data(
                "PEM_LIB",
                format!("cannot parse the encrypted private key (PKCS#8): {e}"),
            ),
        }
    })?;
    match info.decrypt(password) {
        Ok(doc) => Ok(doc.as_bytes().to_vec()),
        Err(pkcs8::Error::EncryptedPrivateKey(e)) => Err(match e {
            // A padding failure comes back as either, depending on the cipher.
            pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed => {
                bad_decrypt()
            }
            pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid } => unsupported_algorithm(oid),
            pkcs8::pkcs5::Error::NoPbes1CryptSupport => error::new(
                ErrorKind::Unsupported,
                "UNSUPPORTED_ALGORITHM",
                "the private key is encrypted with PBES1 (PKCS#5 v1.5), which the tls cap does not decrypt; re-encrypt it with PBES2 (openssl pkcs8 -topk8 -v2 aes-256-cbc)",
            ),
            other => error::bad_data(
                "PEM_LIB",
                format!("cannot decrypt the private key: {other}"),
            ),
        }),
        // The decrypted bytes are not a PrivateKeyInfo: with a CBC cipher a
        // wrong password that happens to leave valid padding ends here.
        Err(_) => Err(bad_decrypt()),
    }
}

/// PKCS#5's PBES2 (RFC 8018), the scheme the pkcs5 crate decrypts.
const PBES2: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");

fn unsupported_algorithm(oid: pkcs8::ObjectIdentifier) -> Error {
    error::new(
        ErrorKind::Unsupported,
        "UNSUPPORTED_ALGORITHM",
        format!("the private key is encrypted with algorithm {oid}, which the tls cap does not decrypt (PBES2 with PBKDF2 or scrypt and AES-CBC or DES-EDE3-CBC are); re-encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc"),
    )
}

/// The outer algorithm of an `EncryptedPrivateKeyInfo` whose parameters the
/// pkcs8 crate could not read.
fn algorithm_oid(der: &[u8]) -> Option<pkcs8::ObjectIdentifier> {
    use pkcs8::der::{asn1::AnyRef, Decode, Reader, SliceReader};
    let mut reader = SliceReader::new(der).ok()?;
    reader
        .sequence(|r| {
            let algorithm = pkcs8::spki::AlgorithmIdentifierRef::decode(r)?;
            AnyRef::decode(r)?;
            Ok(algorithm.oid)
        })
        .ok()
}

/// A cipher of the legacy `DEK-Info` header: its key length and how to run it.
#[derive(Clone, Copy)]
enum LegacyCipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
    Des,
}

impl LegacyCipher {
    fn by_name(name: &str) -> Option<LegacyCipher> {
        match name.to_ascii_uppercase().as_str() {
            "AES-128-CBC" => Some(LegacyCipher::Aes128),
            "AES-192-CBC" => Some(LegacyCipher::Aes192),
            "AES-256-CBC" => Some(LegacyCipher::Aes256),
            "DES-EDE3-CBC" => Some(LegacyCipher::DesEde3),
            "DES-CBC" => Some(LegacyCipher::Des),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            LegacyCipher::Aes128 => 16,
            LegacyCipher::Aes192 | LegacyCipher::DesEde3 => 24,
            LegacyCipher::Aes256 => 32,
            LegacyCipher::Des => 8,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            LegacyCipher::Aes128 | LegacyCipher::Aes192 | LegacyCipher::Aes256 => 16,
            LegacyCipher::DesEde3 | LegacyCipher::Des => 8,
        }
    }

    /// CBC decryption with PKCS#7 padding removed; `None` when the padding
    /// is wrong (almost always a wrong password).
    fn decrypt(self, key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        match self {
            LegacyCipher::Aes128 => cbc_decrypt::<aes::Aes128>(key, iv, data),
            LegacyCipher::Aes192 => cbc_decrypt::<aes::Aes192>(key, iv, data),
            LegacyCipher::Aes256 => cbc_decrypt::<aes::Aes256>(key, iv, data),
            LegacyCipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(key, iv, data),
            LegacyCipher::Des => cbc_decrypt::<des::Des>(key, iv, data),
        }
    }
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    C: aes::cipher::BlockCipher + aes::cipher::BlockDecrypt + aes::cipher::KeyInit,
    cbc::Decryptor<C>: KeyIvInit + BlockDecryptMut + BlockSizeUser,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    decryptor.decrypt_padded_vec_mut::<Pkcs7>(data).ok()
}

/// OpenSSL's `EVP_BytesToKey(cipher, md5, salt, password, count = 1)`:
/// D1 = MD5(password ‖ salt), Dn = MD5(Dn-1 ‖ password ‖ salt), concatenated.
fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while out.len() < len {
        let mut md = Md5::new();
        md.update(&prev);
        md.update(password);
        md.update(salt);
        prev = md.finalize().to_vec();
        out.extend_from_slice(&prev);
    }
    out.truncate(len);
    out
}

fn hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn decrypt_legacy(data: &[u8], dek_info: &str, password: &[u8]) -> Result<Vec<u8>, Error> {
    let bad_header = |why: &str| {
        error::bad_data(
            "PEM_LIB",
            format!("bad DEK-Info header {dek_info:?} in the private key: {why}"),
        )
    };
    let (name, iv_hex) = dek_info
        .split_once(',')
        .ok_or_else(|| bad_header("no IV"))?;
    let cipher = LegacyCipher::by_name(name.trim()).ok_or_else(|| {
        error::new(
            ErrorKind::Unsupported,
            "UNSUPPORTED_ENCRYPTION",
            format!(
                "the private key is encrypted with {}, which the tls cap does not decrypt (AES-128/192/256-CBC, DES-EDE3-CBC and DES-CBC are supported)",
                name.trim()
            ),
        )
    })?;
    let iv = hex(iv_hex).ok_or_else(|| bad_header("the IV is not hex"))?;
    if iv.len() != cipher.iv_len() {
        return Err(bad_header("the IV has the wrong length"));
    }
    let key = bytes_to_key(password, &iv[..8], cipher.key_len());
    let plain = cipher.decrypt(&key, &iv, data).ok_or_else(bad_decrypt)?;
    // A wrong password leaves valid padding about once in 256 tries: what
    // comes out must at least be a DER SEQUENCE filling the whole buffer.
    if !is_der_sequence(&plain) {
        return Err(bad_decrypt());
    }
    Ok(plain)
}

/// Whether `der` is exactly one DER SEQUENCE (tag, definite length, body).
fn is_der_sequence(der: &[u8]) -> bool {
    let (Some(&0x30), Some(&first)) = (der.first(), der.get(1)) else {
        return false;
    };
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || der.len() < 2 + n {
            return false;
        }
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    head + len == der.len()
}
