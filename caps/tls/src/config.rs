//! `client-config` and `server-config` turned into rustls configurations.

use std::sync::{Arc, Mutex};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, SupportedProtocolVersion};

use crate::verify::{AcceptAnyServer, ClientVerifier, NoteCell, ServerVerifier};
use crate::{error, suites};
use crate::{ClientAuth, ClientConfig, Error, ServerConfig, TlsVersion};

/// A private key from DER: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), told apart
/// by their structure.
pub fn private_key(der: &[u8]) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::try_from(der.to_vec())
        .map_err(|e| error::bad_data("PEM_LIB", format!("cannot parse the private key: {e}")))
}

fn cert_chain(ders: &[Vec<u8>]) -> Vec<CertificateDer<'static>> {
    ders.iter()
        .map(|d| CertificateDer::from(d.clone()))
        .collect()
}

/// A trust store from DER certificates (plus webpki-roots if `default`).
pub fn root_store(ders: &[Vec<u8>], default: bool) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    if default {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for der in ders {
        store
            .add(CertificateDer::from(der.as_slice()))
            .map_err(|e| error::bad_data("PEM_LIB", format!("cannot use a trust anchor: {e}")))?;
    }
    Ok(store)
}

/// The rustls versions from `min` to `max`.
fn versions(
    min: TlsVersion,
    max: TlsVersion,
) -> Result<Vec<&'static SupportedProtocolVersion>, Error> {
    let rank = |v: TlsVersion| match v {
        TlsVersion::Tls12 => 0,
        TlsVersion::Tls13 => 1,
    };
    if rank(min) > rank(max) {
        return Err(error::invalid(
            "NO_PROTOCOLS_AVAILABLE",
            "the minimum TLS version is above the maximum",
        ));
    }
    let all: [(TlsVersion, &'static SupportedProtocolVersion); 2] = [
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ];
    Ok(all
        .into_iter()
        .filter(|(v, _)| rank(*v) >= rank(min) && rank(*v) <= rank(max))
        .map(|(_, p)| p)
        .collect())
}

/// Maps a builder's error: a version with no suite left, a key problem.
fn build_error(e: rustls::Error) -> Error {
    match e {
        rustls::Error::General(m) if m.contains("cipher suite") => {
            error::invalid("NO_CIPHER_MATCH", format!("No cipher can be selected: {m}"))
        }
        rustls::Error::InconsistentKeys(_) => {
            error::bad_data("KEY_VALUES_MISMATCH", "key values mismatch")
        }
        other => error::bad_data(
            "PEM_LIB",
            format!("cannot use the certificate or key: {other}"),
        ),
    }
}

/// The name to verify and send as SNI. Without one (or with one rustls
/// cannot use while the name is not checked) an IP placeholder stands in:
/// rustls never sends an IP address as SNI.
fn server_name(c: &ClientConfig) -> Result<ServerName<'static>, Error> {
    let placeholder = ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into());
    match &c.server_name {
        None => Ok(placeholder),
        Some(n) => match ServerName::try_from(n.as_str()) {
            Ok(name) => Ok(name.to_owned()),
            Err(_) if !(c.verify && c.check_hostname) => Ok(placeholder),
            Err(e) => Err(error::invalid(
                "INVALID_SERVER_NAME",
                format!("invalid server name {n:?}: {e}"),
            )),
        },
    }
}

/// Everything a client connection starts from.
pub struct Client {
    pub config: Arc<rustls::ClientConfig>,
    pub name: ServerName<'static>,
    pub note: NoteCell,
}

pub fn client(c: &ClientConfig) -> Result<Client, Error> {
    let provider = suites::provider(&c.cipher_suites)?;
    let note: NoteCell = Arc::new(Mutex::new(None));
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(c.min_version, c.max_version)?)
        .map_err(build_error)?;
    let builder = if c.verify {
        let roots = root_store(&c.roots, c.default_roots)?;
        let v = ServerVerifier::new(roots, c.check_hostname, provider.clone(), note.clone())
            .map_err(|e| error::internal(e.to_string()))?
            .trusting_leaves(c.roots.clone());
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(v))
    } else {
        let v = AcceptAnyServer { provider };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(v))
    };
    let mut config = match (&c.private_key, c.cert_chain.is_empty()) {
        (None, true) => builder.with_no_client_auth(),
        (Some(key), false) => builder
            .with_client_auth_cert(cert_chain(&c.cert_chain), private_key(key)?)
            .map_err(build_error)?,
        _ => {
            return Err(error::invalid(
                "PEM_LIB",
                "a client certificate needs both its chain and its private key",
            ))
        }
    };
    config.alpn_protocols = c.alpn.clone();
    config.enable_sni = true;
    Ok(Client {
        config: Arc::new(config),
        name: server_name(c)?,
        note,
    })
}

fn client_verifier(
    s: &ServerConfig,
    provider: &Arc<CryptoProvider>,
    note: &NoteCell,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, Error> {
    let mandatory = match s.client_auth {
        ClientAuth::None => return Ok(WebPkiClientVerifier::no_client_auth()),
        ClientAuth::Optional => false,
        ClientAuth::Required => true,
    };
    let roots = root_store(&s.client_roots, false)?;
    let v = ClientVerifier::new(roots, mandatory, provider.clone(), note.clone())
        .map_err(|e| error::internal(e.to_string()))?;
    Ok(Arc::new(v))
}

/// Everything a server connection starts from.
pub struct Server {
    pub config: Arc<rustls::ServerConfig>,
    pub note: NoteCell,
}

pub fn server(s: &ServerConfig) -> Result<Server, Error> {
    if s.cert_chain.is_empty() {
        return Err(error::invalid(
            "NO_CERTIFICATE_ASSIGNED",
            "a server needs a certificate chain and its private key",
        ));
    }
    let provider = suites::provider(&s.cipher_suites)?;
    let note: NoteCell = Arc::new(Mutex::new(None));
    let key = private_key(&s.private_key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions(s.min_version, s.max_version)?)
        .map_err(build_error)?
        .with_client_cert_verifier(client_verifier(s, &provider, &note)?)
        .with_single_cert(cert_chain(&s.cert_chain), key)
        .map_err(build_error)?;
    config.alpn_protocols = s.alpn.clone();
    // The server's order (ChaCha20 first, see suites::provider) over the
    // client's: the cost of the cipher is paid here, inside wasm. CPython's
    // servers ask for the same (OP_CIPHER_SERVER_PREFERENCE, set by default).
    config.ignore_client_order = true;
    Ok(Server {
        config: Arc::new(config),
        note,
    })
}

/// `check-key-pair`: the key parses and its public half is the
/// certificate's. A key whose public half ring cannot derive passes.
pub fn check_key_pair(cert: &[u8], key: &[u8]) -> Result<(), Error> {
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(private_key(key)?)
        .map_err(|e| error::bad_data("PEM_LIB", format!("cannot use the private key: {e}")))?;
    let ck = rustls::sign::CertifiedKey::new(vec![CertificateDer::from(cert.to_vec())], signing);
    match ck.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(rustls::Error::InconsistentKeys(_)) => Err(error::bad_data(
            "KEY_VALUES_MISMATCH",
            "key values mismatch",
        )),
        Err(e) => Err(error::bad_data(
            "PEM_LIB",
            format!("cannot parse the certificate: {e}"),
        )),
    }
}
