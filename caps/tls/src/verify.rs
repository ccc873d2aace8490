//! Certificate verification around rustls-webpki: the `verify = false` and
//! `check-hostname = false` policies, and the OpenSSL verify code and message
//! of a failure (`X509_V_ERR_*`), worked out where the chain is at hand.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore};
use rustls::{Error as TlsError, SignatureScheme};

/// OpenSSL's verify result for a failed certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyNote {
    pub code: i32,
    pub message: String,
}

/// Where a verifier leaves the note of its last failure for the connection.
pub type NoteCell = Arc<Mutex<Option<VerifyNote>>>;

pub fn take_note(cell: &NoteCell) -> Option<VerifyNote> {
    cell.lock().ok().and_then(|mut n| n.take())
}

fn put_note(cell: &NoteCell, note: VerifyNote) {
    if let Ok(mut n) = cell.lock() {
        *n = Some(note);
    }
}

/// The chain and name a failure was about.
pub struct Chain<'a> {
    pub end_entity: &'a CertificateDer<'a>,
    pub intermediates: &'a [CertificateDer<'a>],
    pub name: Option<&'a ServerName<'a>>,
}

fn note(code: i32, message: impl Into<String>) -> VerifyNote {
    VerifyNote {
        code,
        message: message.into(),
    }
}

/// Whether a DER certificate names itself as its issuer.
fn self_issued(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
        .unwrap_or(false)
}

fn unknown_issuer(chain: Option<&Chain<'_>>) -> VerifyNote {
    match chain {
        Some(c) if c.intermediates.is_empty() && self_issued(c.end_entity) => {
            note(18, "self-signed certificate")
        }
        Some(c) if c.intermediates.last().is_some_and(|l| self_issued(l)) => {
            note(19, "self-signed certificate in certificate chain")
        }
        _ => note(20, "unable to get local issuer certificate"),
    }
}

fn name_mismatch(expected: Option<&ServerName<'_>>) -> VerifyNote {
    match expected {
        Some(ServerName::IpAddress(ip)) => {
            let ip = std::net::IpAddr::from(*ip);
            note(
                64,
                format!("IP address mismatch, certificate is not valid for '{ip}'."),
            )
        }
        Some(name) => note(
            62,
            format!(
                "Hostname mismatch, certificate is not valid for '{}'.",
                name.to_str()
            ),
        ),
        None => note(62, "Hostname mismatch"),
    }
}

/// OpenSSL's code and message (X509_verify_cert_error_string) for a
/// rustls certificate error.
pub fn describe(err: &CertificateError, chain: Option<&Chain<'_>>) -> VerifyNote {
    use CertificateError as C;
    // OpenSSL builds the chain first: an untrusted self-signed certificate on its own
    // is "self-signed" (18), whatever else webpki finds first (a CA certificate as
    // end entity, say).
    let lone_self_signed =
        chain.is_some_and(|c| c.intermediates.is_empty() && self_issued(c.end_entity));
    if lone_self_signed && matches!(err, C::Other(_) | C::UnknownIssuer | C::InvalidPurpose) {
        return note(18, "self-signed certificate");
    }
    match err {
        C::UnknownIssuer => unknown_issuer(chain),
        C::Expired | C::ExpiredContext { .. } => note(10, "certificate has expired"),
        C::NotValidYet | C::NotValidYetContext { .. } => note(9, "certificate is not yet valid"),
        C::NotValidForNameContext { expected, .. } => name_mismatch(Some(expected)),
        C::NotValidForName => name_mismatch(chain.and_then(|c| c.name)),
        C::BadSignature => note(7, "certificate signature failure"),
        C::Revoked => note(23, "certificate revoked"),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            note(26, "unsupported certificate purpose")
        }
        C::UnhandledCriticalExtension => note(34, "unhandled critical extension"),
        C::BadEncoding => note(
            1,
            "unspecified certificate verification error (bad encoding)",
        ),
        other => note(
            1,
            format!("unspecified certificate verification error ({other:?})"),
        ),
    }
}

/// Records the note of a certificate error and passes the error on.
fn noted<T>(cell: &NoteCell, chain: Chain<'_>, r: Result<T, TlsError>) -> Result<T, TlsError> {
    if let Err(TlsError::InvalidCertificate(ce)) = &r {
        put_note(cell, describe(ce, Some(&chain)));
    }
    r
}

fn schemes(provider: &CryptoProvider) -> Vec<SignatureScheme> {
    provider
        .signature_verification_algorithms
        .supported_schemes()
}

/// Checks a server's chain against trust anchors (`CERT_REQUIRED`), its
/// name only with `check_hostname`; `inner` None: no anchors, so no chain
/// can verify (OpenSSL's "unable to get local issuer certificate").
#[derive(Debug)]
pub struct ServerVerifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    /// The caller's trust anchors (DER): a server certificate that is one of them is
    /// trusted as it is (see `trusted_leaf`).
    leaves: Vec<Vec<u8>>,
    check_hostname: bool,
    provider: Arc<CryptoProvider>,
    note: NoteCell,
}

impl ServerVerifier {
    pub fn new(
        roots: RootCertStore,
        check_hostname: bool,
        provider: Arc<CryptoProvider>,
        note: NoteCell,
    ) -> Result<Self, TlsError> {
        let inner = if roots.is_empty() {
            None
        } else {
            let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsError::General(e.to_string()))?;
            Some(v)
        };
        Ok(ServerVerifier {
            inner,
            leaves: Vec::new(),
            check_hostname,
            provider,
            note,
        })
    }
}

impl ServerVerifier {
    /// Trusts a server certificate that is itself one of `roots` (DER).
    pub fn trusting_leaves(mut self, roots: Vec<Vec<u8>>) -> Self {
        self.leaves = roots;
        self
    }

    /// OpenSSL accepts a server certificate that is itself in the trust store (a
    /// self-signed certificate given to `load_verify_locations`, the usual way to
    /// trust one server) once its dates and, with `check_hostname`, its name are
    /// right; webpki would refuse it as an end entity that is a CA
    /// (`CaUsedAsEndEntity`) or find no issuer for it. `None`: not such a leaf.
    fn trusted_leaf(
        &self,
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Option<Result<ServerCertVerified, TlsError>> {
        if !self
            .leaves
            .iter()
            .any(|l| l.as_slice() == end_entity.as_ref())
        {
            return None;
        }
        let validity = x509_parser::parse_x509_certificate(end_entity.as_ref()).map(|(_, c)| {
            let v = c.validity();
            (v.not_before.timestamp(), v.not_after.timestamp())
        });
        let Ok((not_before, not_after)) = validity else {
            return Some(Err(TlsError::InvalidCertificate(
                CertificateError::BadEncoding,
            )));
        };
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now > not_after {
            return Some(Err(TlsError::InvalidCertificate(CertificateError::Expired)));
        }
        if now < not_before {
            return Some(Err(TlsError::InvalidCertificate(
                CertificateError::NotValidYet,
            )));
        }
        if self.check_hostname {
            let checked = rustls::server::ParsedCertificate::try_from(end_entity)
                .and_then(|parsed| rustls::client::verify_server_name(&parsed, server_name));
            if let Err(e) = checked {
                return Some(Err(e));
            }
        }
        Some(Ok(ServerCertVerified::assertion()))
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let chain = Chain {
            end_entity,
            intermediates,
            name: Some(server_name),
        };
        if let Some(result) = self.trusted_leaf(end_entity, server_name, now) {
            return noted(&self.note, chain, result);
        }
        let result = match &self.inner {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(TlsError::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        let result = match result {
            // webpki checks the name only after the chain verified.
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_hostname => Ok(ServerCertVerified::assertion()),
            r => r,
        };
        noted(&self.note, chain, result)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algs = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algs = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        schemes(&self.provider)
    }
}

/// `CERT_NONE`: any server certificate is accepted; the handshake
/// signatures are still checked (they prove the peer has the key).
#[derive(Debug)]
pub struct AcceptAnyServer {
    pub provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algs = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algs = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        schemes(&self.provider)
    }
}

/// A server's check of client certificates (`CERT_OPTIONAL` /
/// `CERT_REQUIRED`); `inner` None: no anchors, every certificate fails.
#[derive(Debug)]
pub struct ClientVerifier {
    inner: Option<Arc<dyn ClientCertVerifier>>,
    mandatory: bool,
    provider: Arc<CryptoProvider>,
    note: NoteCell,
}

impl ClientVerifier {
    pub fn new(
        roots: RootCertStore,
        mandatory: bool,
        provider: Arc<CryptoProvider>,
        note: NoteCell,
    ) -> Result<Self, TlsError> {
        let inner = if roots.is_empty() {
            None
        } else {
            let b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let b = if mandatory {
                b
            } else {
                b.allow_unauthenticated()
            };
            Some(b.build().map_err(|e| TlsError::General(e.to_string()))?)
        };
        Ok(ClientVerifier {
            inner,
            mandatory,
            provider,
            note,
        })
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        match &self.inner {
            Some(v) => v.root_hint_subjects(),
            None => &[],
        }
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, TlsError> {
        let result = match &self.inner {
            Some(v) => v.verify_client_cert(end_entity, intermediates, now),
            None => Err(TlsError::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        let chain = Chain {
            end_entity,
            intermediates,
            name: None,
        };
        noted(&self.note, chain, result)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algs = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        let algs = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        schemes(&self.provider)
    }
}
