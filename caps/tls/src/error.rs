//! The WIT `error` record: constructors, and rustls' errors mapped to
//! OpenSSL's reason codes (the names CPython puts in `SSLError.reason`).

use rustls::{AlertDescription, CertificateError, InvalidMessage, PeerIncompatible};

use crate::verify::VerifyNote;
use crate::{Error, ErrorKind};

pub fn new(kind: ErrorKind, reason: &str, message: impl Into<String>) -> Error {
    Error {
        kind,
        reason: reason.to_string(),
        message: message.into(),
        verify_code: 0,
    }
}

pub fn invalid(reason: &str, message: impl Into<String>) -> Error {
    new(ErrorKind::InvalidArgument, reason, message)
}

pub fn bad_data(reason: &str, message: impl Into<String>) -> Error {
    new(ErrorKind::BadData, reason, message)
}

pub fn protocol(reason: &str, message: impl Into<String>) -> Error {
    new(ErrorKind::Protocol, reason, message)
}

pub fn internal(message: impl Into<String>) -> Error {
    new(ErrorKind::Internal, "INTERNAL_ERROR", message)
}

/// A protocol error whose message is OpenSSL's: the reason in lower case
/// with spaces (`TLSV1_ALERT_UNKNOWN_CA` → `tlsv1 alert unknown ca`).
pub fn protocol_reason(reason: &str) -> Error {
    protocol(reason, reason.to_lowercase().replace('_', " "))
}

/// A certificate that failed to verify: `verify-code` and the message from
/// the note the verifier left (it saw the chain), else from the error alone.
pub fn verify_failed(cert_error: &CertificateError, note: Option<VerifyNote>) -> Error {
    let note = note.unwrap_or_else(|| crate::verify::describe(cert_error, None));
    Error {
        kind: ErrorKind::CertificateVerifyFailed,
        reason: "CERTIFICATE_VERIFY_FAILED".to_string(),
        message: format!("certificate verify failed: {}", note.message),
        verify_code: note.code,
    }
}

/// Maps an error of `process_new_packets` (or of config building) to the
/// WIT error. `is_server` picks the side-specific reasons.
pub fn from_rustls(err: &rustls::Error, is_server: bool, note: Option<VerifyNote>) -> Error {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(ce) => verify_failed(ce, note),
        E::AlertReceived(desc) => protocol_reason(&alert_reason(*desc)),
        E::InvalidMessage(m) => protocol_reason(invalid_message_reason(m)),
        E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            protocol_reason("UNEXPECTED_MESSAGE")
        }
        E::PeerIncompatible(p) => protocol_reason(incompatible_reason(p, is_server)),
        E::NoApplicationProtocol => protocol_reason("NO_APPLICATION_PROTOCOL"),
        E::NoCertificatesPresented => protocol_reason("PEER_DID_NOT_RETURN_A_CERTIFICATE"),
        E::DecryptError => protocol_reason("DECRYPTION_FAILED_OR_BAD_RECORD_MAC"),
        E::PeerMisbehaved(m) => protocol("UNEXPECTED_MESSAGE", format!("peer misbehaved: {m:?}")),
        E::PeerSentOversizedRecord => protocol_reason("PACKET_LENGTH_TOO_LONG"),
        E::InconsistentKeys(_) => bad_data("KEY_VALUES_MISMATCH", "key values mismatch"),
        other => protocol("UNKNOWN", other.to_string()),
    }
}

fn invalid_message_reason(m: &InvalidMessage) -> &'static str {
    match m {
        // The first bytes were not a TLS record header: OpenSSL's reason for
        // plaintext (an HTTP response, say) where TLS was expected.
        InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion => {
            "WRONG_VERSION_NUMBER"
        }
        InvalidMessage::MessageTooLarge
        | InvalidMessage::HandshakePayloadTooLarge
        | InvalidMessage::CertificatePayloadTooLarge => "PACKET_LENGTH_TOO_LONG",
        InvalidMessage::UnexpectedMessage(_) => "UNEXPECTED_MESSAGE",
        _ => "DECODE_ERROR",
    }
}

fn incompatible_reason(p: &PeerIncompatible, is_server: bool) -> &'static str {
    use PeerIncompatible as P;
    match p {
        P::NoCipherSuitesInCommon => "NO_SHARED_CIPHER",
        P::NoKxGroupsInCommon | P::NoEcPointFormatsInCommon => {
            if is_server {
                "NO_SHARED_CIPHER"
            } else {
                "NO_SHARED_GROUPS"
            }
        }
        P::NoSignatureSchemesInCommon | P::NoCertificateRequestSignatureSchemesInCommon => {
            "NO_SHARED_SIGNATURE_ALGORITHMS"
        }
        P::ServerDoesNotSupportTls12Or13
        | P::ServerTlsVersionIsDisabledByOurConfig
        | P::SupportedVersionsExtensionRequired
        | P::Tls12NotOffered
        | P::Tls12NotOfferedOrEnabled => "UNSUPPORTED_PROTOCOL",
        _ => "HANDSHAKE_FAILURE",
    }
}

/// OpenSSL's reason for a fatal alert received from the peer (ssl_err.c):
/// the SSLv3-era alerts are `SSLV3_ALERT_*`, later ones `TLSV1_ALERT_*`,
/// a few have no `ALERT_`, and TLS 1.3's are `TLSV13_ALERT_*`.
pub fn alert_reason(desc: AlertDescription) -> String {
    let name = match u8::from(desc) {
        0x0a => "SSLV3_ALERT_UNEXPECTED_MESSAGE",
        0x14 => "SSLV3_ALERT_BAD_RECORD_MAC",
        0x15 => "TLSV1_ALERT_DECRYPTION_FAILED",
        0x16 => "TLSV1_ALERT_RECORD_OVERFLOW",
        0x1e => "SSLV3_ALERT_DECOMPRESSION_FAILURE",
        0x28 => "SSLV3_ALERT_HANDSHAKE_FAILURE",
        0x29 => "SSLV3_ALERT_NO_CERTIFICATE",
        0x2a => "SSLV3_ALERT_BAD_CERTIFICATE",
        0x2b => "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        0x2c => "SSLV3_ALERT_CERTIFICATE_REVOKED",
        0x2d => "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        0x2e => "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        0x2f => "SSLV3_ALERT_ILLEGAL_PARAMETER",
        0x30 => "TLSV1_ALERT_UNKNOWN_CA",
        0x31 => "TLSV1_ALERT_ACCESS_DENIED",
        0x32 => "TLSV1_ALERT_DECODE_ERROR",
        0x33 => "TLSV1_ALERT_DECRYPT_ERROR",
        0x3c => "TLSV1_ALERT_EXPORT_RESTRICTION",
        0x46 => "TLSV1_ALERT_PROTOCOL_VERSION",
        0x47 => "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        0x50 => "TLSV1_ALERT_INTERNAL_ERROR",
        0x56 => "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
        0x5a => "TLSV1_ALERT_USER_CANCELLED",
        0x64 => "TLSV1_ALERT_NO_RENEGOTIATION",
        0x6d => "TLSV13_ALERT_MISSING_EXTENSION",
        0x6e => "TLSV1_UNSUPPORTED_EXTENSION",
        0x6f => "TLSV1_CERTIFICATE_UNOBTAINABLE",
        0x70 => "TLSV1_UNRECOGNIZED_NAME",
        0x71 => "TLSV1_BAD_CERTIFICATE_STATUS_RESPONSE",
        0x72 => "TLSV1_BAD_CERTIFICATE_HASH_VALUE",
        0x73 => "TLSV1_ALERT_UNKNOWN_PSK_IDENTITY",
        0x74 => "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        0x78 => "TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
        0x79 => "TLSV1_ALERT_ECH_REQUIRED",
        code => return format!("TLSV1_ALERT_UNKNOWN_{code}"),
    };
    name.to_string()
}
