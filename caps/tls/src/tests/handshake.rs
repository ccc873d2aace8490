//! Real handshakes between a client and a server connection of this crate,
//! in memory: `transmit` of one side fed to `receive` of the other.

use super::certs::{pki, Identity};
use crate::conn::Conn;
use crate::{ClientAuth, ClientConfig, Error, ErrorKind, ReadResult, ServerConfig, TlsVersion};

pub(super) fn client_config() -> ClientConfig {
    ClientConfig {
        roots: vec![pki().ca.clone()],
        default_roots: false,
        verify: true,
        check_hostname: true,
        server_name: Some("localhost".to_string()),
        alpn: Vec::new(),
        min_version: TlsVersion::Tls12,
        max_version: TlsVersion::Tls13,
        cert_chain: Vec::new(),
        private_key: None,
        cipher_suites: Vec::new(),
    }
}

pub(super) fn server_config(id: &Identity) -> ServerConfig {
    ServerConfig {
        cert_chain: id.chain.clone(),
        private_key: id.key.clone(),
        alpn: Vec::new(),
        min_version: TlsVersion::Tls12,
        max_version: TlsVersion::Tls13,
        client_auth: ClientAuth::None,
        client_roots: Vec::new(),
        cipher_suites: Vec::new(),
    }
}

/// The errors each side saw (None: that side is fine).
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub(super) client: Option<Error>,
    pub(super) server: Option<Error>,
}

impl Outcome {
    pub(super) fn ok(&self) -> bool {
        self.client.is_none() && self.server.is_none()
    }
}

/// Moves bytes both ways until neither side has anything to send. After an
/// error the failing side's alert is still delivered.
pub(super) fn pump(c: &mut Conn, s: &mut Conn) -> Outcome {
    let mut out = Outcome::default();
    for _ in 0..32 {
        let to_server = c.transmit();
        if !to_server.is_empty() && out.server.is_none() {
            if let Err(e) = feed(s, &to_server) {
                out.server = Some(e);
            }
        }
        let to_client = s.transmit();
        if !to_client.is_empty() && out.client.is_none() {
            if let Err(e) = feed(c, &to_client) {
                out.client = Some(e);
            }
        }
        if to_server.is_empty() && to_client.is_empty() {
            break;
        }
    }
    out
}

/// `receive` until all is taken (reading plaintext off when it is full).
fn feed(conn: &mut Conn, mut data: &[u8]) -> Result<(), Error> {
    let mut spins = 0;
    while !data.is_empty() {
        let n = conn.receive(data)? as usize;
        data = &data[n..];
        if n == 0 {
            spins += 1;
            assert!(spins < 4, "receive takes nothing");
        }
    }
    Ok(())
}

fn connect(client: &ClientConfig, server: &ServerConfig) -> (Conn, Conn, Outcome) {
    let mut c = Conn::client(client).expect("client config");
    let mut s = Conn::server(server).expect("server config");
    let out = pump(&mut c, &mut s);
    (c, s, out)
}

pub(super) fn read_all(conn: &mut Conn) -> (Vec<u8>, ReadResult) {
    let mut got = Vec::new();
    loop {
        match conn.read(7000).expect("read") {
            ReadResult::Data(d) => got.extend(d),
            other => return (got, other),
        }
    }
}

#[test]
fn tls13_handshake_alpn_data_and_close() {
    let mut cc = client_config();
    cc.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut sc = server_config(&pki().server);
    sc.alpn = vec![b"http/1.1".to_vec()];
    let mut c = Conn::client(&cc).unwrap();
    let mut s = Conn::server(&sc).unwrap();
    assert!(c.handshaking());
    assert_eq!(c.version(), None);
    // Written before the handshake: queued, sent once it completes.
    assert_eq!(c.write(b"early words").unwrap(), 11);
    let out = pump(&mut c, &mut s);
    assert!(out.ok(), "{out:?}");
    assert!(!c.handshaking() && !s.handshaking());
    assert_eq!(c.version(), Some(TlsVersion::Tls13));
    assert_eq!(s.version(), Some(TlsVersion::Tls13));
    let cipher = c.cipher().unwrap();
    assert!(cipher.name.starts_with("TLS_"), "{cipher:?}");
    assert_eq!(cipher.name, cipher.openssl_name);
    assert_eq!(c.alpn_protocol().as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(s.alpn_protocol().as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(s.server_name().as_deref(), Some("localhost"));
    assert_eq!(c.server_name(), None);
    assert_eq!(c.peer_certificates(), pki().server.chain);
    assert!(s.peer_certificates().is_empty());
    assert_eq!(
        read_all(&mut s),
        (b"early words".to_vec(), ReadResult::WantRead)
    );

    // 100 KiB, through the buffer limits: `write` takes what fits, and
    // `receive` takes less than given once the plaintext buffer is full.
    let big: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut partial = false;
    while got.len() < big.len() {
        if sent < big.len() {
            sent += s.write(&big[sent..]).unwrap() as usize;
        }
        let wire = s.transmit();
        let mut rest = &wire[..];
        while !rest.is_empty() {
            let n = c.receive(rest).unwrap() as usize;
            partial |= n < rest.len();
            rest = &rest[n..];
            got.extend(read_all(&mut c).0);
        }
    }
    assert_eq!(got, big);
    assert!(partial, "the plaintext buffer never filled up");

    c.close_notify();
    assert!(pump(&mut c, &mut s).ok());
    assert_eq!(s.read(100).unwrap(), ReadResult::Closed);
    s.close_notify();
    assert!(pump(&mut c, &mut s).ok());
    assert_eq!(c.read(100).unwrap(), ReadResult::Closed);
}

#[test]
fn tls12_only() {
    let mut cc = client_config();
    cc.max_version = TlsVersion::Tls12;
    let (mut c, mut s, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    assert_eq!(c.version(), Some(TlsVersion::Tls12));
    let cipher = s.cipher().unwrap();
    assert!(
        cipher.name.starts_with("TLS_ECDHE_ECDSA_WITH_"),
        "{cipher:?}"
    );
    assert!(
        cipher.openssl_name.starts_with("ECDHE-ECDSA-"),
        "{cipher:?}"
    );
    assert!(cipher.secret_bits == 128 || cipher.secret_bits == 256);
    assert_eq!(c.write(b"ping").unwrap(), 4);
    assert!(pump(&mut c, &mut s).ok());
    assert_eq!(s.read(100).unwrap(), ReadResult::Data(b"ping".to_vec()));
}

#[test]
fn version_ranges() {
    // Client 1.2 only, server 1.3 only.
    let mut cc = client_config();
    cc.max_version = TlsVersion::Tls12;
    let mut sc = server_config(&pki().server);
    sc.min_version = TlsVersion::Tls13;
    let (_, _, out) = connect(&cc, &sc);
    let s = out.server.expect("server refuses");
    assert_eq!(s.kind, ErrorKind::Protocol);
    assert_eq!(s.reason, "UNSUPPORTED_PROTOCOL", "{s:?}");
    let c = out.client.expect("client gets an alert");
    assert_eq!(c.reason, "TLSV1_ALERT_PROTOCOL_VERSION", "{c:?}");

    cc.min_version = TlsVersion::Tls13;
    cc.max_version = TlsVersion::Tls12;
    let e = Conn::client(&cc).err().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

fn verify_error(cc: &ClientConfig, id: &Identity) -> (Error, Option<Error>) {
    let (_, _, out) = connect(cc, &server_config(id));
    (out.client.expect("the client fails"), out.server)
}

#[test]
fn hostname_mismatch_is_62() {
    let mut cc = client_config();
    cc.server_name = Some("wrong.example".to_string());
    let (e, s) = verify_error(&cc, &pki().server);
    assert_eq!(e.kind, ErrorKind::CertificateVerifyFailed);
    assert_eq!(e.reason, "CERTIFICATE_VERIFY_FAILED");
    assert_eq!(e.verify_code, 62);
    assert_eq!(
        e.message,
        "certificate verify failed: Hostname mismatch, certificate is not valid for 'wrong.example'."
    );
    assert_eq!(s.unwrap().reason, "SSLV3_ALERT_BAD_CERTIFICATE");

    // The same without check-hostname is fine.
    cc.check_hostname = false;
    let (_, _, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    // No server name at all, not checked: fine too, and no SNI is sent.
    cc.server_name = None;
    let (_, s, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    assert_eq!(s.server_name(), None);
}

#[test]
fn ip_address_names() {
    let mut cc = client_config();
    cc.server_name = Some("127.0.0.1".to_string());
    let (_, s, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    assert_eq!(s.server_name(), None, "an IP address is not sent as SNI");
    cc.server_name = Some("127.0.0.2".to_string());
    let (e, _) = verify_error(&cc, &pki().server);
    assert_eq!(e.verify_code, 64);
    assert!(e.message.contains("IP address mismatch"), "{e:?}");
}

#[test]
fn unknown_ca_is_20() {
    let mut untrusted = pki().untrusted.clone();
    untrusted.chain.truncate(1);
    let (e, s) = verify_error(&client_config(), &untrusted);
    assert_eq!(e.verify_code, 20, "{e:?}");
    assert_eq!(
        e.message,
        "certificate verify failed: unable to get local issuer certificate"
    );
    assert_eq!(s.unwrap().reason, "TLSV1_ALERT_UNKNOWN_CA");
    // With its (untrusted) root in the chain: 19.
    let (e, _) = verify_error(&client_config(), &pki().untrusted);
    assert_eq!(e.verify_code, 19, "{e:?}");
    // No trust anchors at all: 20 for a lone leaf, 19 when the chain
    // carries its root (as OpenSSL says).
    let mut cc = client_config();
    cc.roots.clear();
    let mut lone = pki().server.clone();
    lone.chain.truncate(1);
    let (e, _) = verify_error(&cc, &lone);
    assert_eq!(e.verify_code, 20, "{e:?}");
    let (e, _) = verify_error(&cc, &pki().server);
    assert_eq!(e.verify_code, 19, "{e:?}");
}

#[test]
fn expired_is_10() {
    let (e, s) = verify_error(&client_config(), &pki().expired);
    assert_eq!(e.verify_code, 10, "{e:?}");
    assert_eq!(
        e.message,
        "certificate verify failed: certificate has expired"
    );
    assert_eq!(s.unwrap().reason, "SSLV3_ALERT_CERTIFICATE_EXPIRED");
}

#[test]
fn self_signed_is_18() {
    let (e, _) = verify_error(&client_config(), &pki().self_signed);
    assert_eq!(e.verify_code, 18, "{e:?}");
    assert_eq!(
        e.message,
        "certificate verify failed: self-signed certificate"
    );
    // The error stays: a later receive reports the same.
    let mut c = Conn::client(&client_config()).unwrap();
    let mut s = Conn::server(&server_config(&pki().self_signed)).unwrap();
    let out = pump(&mut c, &mut s);
    assert_eq!(out.client.as_ref().unwrap().verify_code, 18);
    assert_eq!(c.receive(&[]).unwrap_err().verify_code, 18);
}

/// A self-signed server certificate given as the trust anchor is trusted as it is
/// (OpenSSL's behaviour), CA flag or not; its name and dates are still checked.
#[test]
fn a_self_signed_certificate_in_the_roots_is_trusted() {
    for id in [&pki().self_signed, &pki().self_signed_ca] {
        let mut cc = client_config();
        cc.roots = id.chain.clone();
        let (_, _, out) = connect(&cc, &server_config(id));
        assert!(out.ok(), "{out:?}");
        cc.server_name = Some("wrong.example".to_string());
        let (e, _) = verify_error(&cc, id);
        assert_eq!(e.verify_code, 62, "{e:?}");
        cc.check_hostname = false;
        let (_, _, out) = connect(&cc, &server_config(id));
        assert!(out.ok(), "{out:?}");
    }
    // Not given: "self-signed" (18), also for the CA-flagged one webpki calls a CA
    // used as an end entity.
    let (e, _) = verify_error(&client_config(), &pki().self_signed_ca);
    assert_eq!(e.verify_code, 18, "{e:?}");
}

#[test]
fn verify_false_accepts_anything() {
    let mut cc = client_config();
    cc.verify = false;
    cc.roots.clear();
    cc.server_name = Some("wrong.example".to_string());
    for id in [&pki().self_signed, &pki().expired, &pki().untrusted] {
        let (c, _, out) = connect(&cc, &server_config(id));
        assert!(out.ok(), "{out:?}");
        assert_eq!(c.peer_certificates(), id.chain);
    }
}

#[test]
fn client_auth() {
    let mut sc = server_config(&pki().server);
    sc.client_auth = ClientAuth::Required;
    sc.client_roots = vec![pki().ca.clone()];
    // Required, none sent: the server fails, the client gets the alert.
    let (_, _, out) = connect(&client_config(), &sc);
    let e = out.server.expect("the server refuses");
    assert_eq!(e.reason, "PEER_DID_NOT_RETURN_A_CERTIFICATE", "{e:?}");
    assert_eq!(
        out.client.expect("alert").reason,
        "TLSV13_ALERT_CERTIFICATE_REQUIRED"
    );
    // Required, sent.
    let mut cc = client_config();
    cc.cert_chain = pki().client.chain.clone();
    cc.private_key = Some(pki().client.key.clone());
    let (_, s, out) = connect(&cc, &sc);
    assert!(out.ok(), "{out:?}");
    assert_eq!(s.peer_certificates(), pki().client.chain);
    // Optional, none sent.
    sc.client_auth = ClientAuth::Optional;
    let (_, _, out) = connect(&client_config(), &sc);
    assert!(out.ok(), "{out:?}");
    // A client certificate of an unknown CA.
    cc.cert_chain = vec![pki().self_signed.chain[0].clone()];
    cc.private_key = Some(pki().self_signed.key.clone());
    let (_, _, out) = connect(&cc, &sc);
    let e = out.server.expect("the server refuses");
    assert_eq!(e.kind, ErrorKind::CertificateVerifyFailed);
    assert_eq!(e.verify_code, 18, "{e:?}");
    // Chain without key.
    cc.private_key = None;
    assert_eq!(
        Conn::client(&cc).err().unwrap().kind,
        ErrorKind::InvalidArgument
    );
}

#[test]
fn cipher_suite_filter() {
    let mut cc = client_config();
    cc.cipher_suites = vec!["TLS_CHACHA20_POLY1305_SHA256".to_string()];
    let (c, _, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    assert_eq!(c.cipher().unwrap().name, "TLS_CHACHA20_POLY1305_SHA256");
    assert_eq!(c.cipher().unwrap().secret_bits, 256);

    let mut cc = client_config();
    cc.max_version = TlsVersion::Tls12;
    cc.cipher_suites = vec![
        "ECDHE-ECDSA-AES256-GCM-SHA384".to_string(),
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_string(),
    ];
    let (c, _, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    let info = c.cipher().unwrap();
    assert_eq!(info.name, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    assert_eq!(info.openssl_name, "ECDHE-ECDSA-AES256-GCM-SHA384");
    assert_eq!(info.secret_bits, 256);

    // Nothing known.
    cc.cipher_suites = vec!["TLS_RSA_WITH_RC4_128_MD5".to_string()];
    let e = Conn::client(&cc).err().unwrap();
    assert_eq!(
        (e.kind, e.reason.as_str()),
        (ErrorKind::InvalidArgument, "NO_CIPHER_MATCH")
    );
    // Only a TLS 1.3 suite for a TLS 1.2-only client.
    cc.cipher_suites = vec!["TLS_AES_128_GCM_SHA256".to_string()];
    let e = Conn::client(&cc).err().unwrap();
    assert_eq!(e.reason, "NO_CIPHER_MATCH", "{e:?}");

    // Nothing in common.
    let mut cc = client_config();
    cc.cipher_suites = vec!["TLS_AES_128_GCM_SHA256".to_string()];
    let mut sc = server_config(&pki().server);
    sc.cipher_suites = vec!["TLS_AES_256_GCM_SHA384".to_string()];
    let (_, _, out) = connect(&cc, &sc);
    assert_eq!(out.server.unwrap().reason, "NO_SHARED_CIPHER");
    assert_eq!(out.client.unwrap().reason, "SSLV3_ALERT_HANDSHAKE_FAILURE");
}

#[test]
fn chacha20_is_preferred_by_both_sides() {
    // Both defaults: ChaCha20-Poly1305 (fast without AES instructions).
    let (c, _, out) = connect(&client_config(), &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    assert_eq!(c.cipher().unwrap().name, "TLS_CHACHA20_POLY1305_SHA256");
    let mut cc = client_config();
    cc.max_version = TlsVersion::Tls12;
    let (c, _, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    assert_eq!(
        c.cipher().unwrap().name,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
    );
    // A client that prefers AES (its list without ChaCha20 first) still gets
    // the server's ChaCha20 when it offers it: the server's order wins.
    let mut cc = client_config();
    cc.cipher_suites = vec![
        "TLS_AES_256_GCM_SHA384".to_string(),
        "TLS_CHACHA20_POLY1305_SHA256".to_string(),
    ];
    let (c, _, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    assert_eq!(c.cipher().unwrap().name, "TLS_CHACHA20_POLY1305_SHA256");
    // Without ChaCha20 on offer, AES.
    cc.cipher_suites = vec!["TLS_AES_256_GCM_SHA384".to_string()];
    let (c, _, out) = connect(&cc, &server_config(&pki().server));
    assert!(out.ok(), "{out:?}");
    assert_eq!(c.cipher().unwrap().name, "TLS_AES_256_GCM_SHA384");
}

#[test]
fn alpn_without_agreement() {
    let mut cc = client_config();
    cc.alpn = vec![b"h2".to_vec()];
    let mut sc = server_config(&pki().server);
    sc.alpn = vec![b"http/1.1".to_vec()];
    let (_, _, out) = connect(&cc, &sc);
    assert_eq!(out.server.unwrap().reason, "NO_APPLICATION_PROTOCOL");
    assert_eq!(
        out.client.unwrap().reason,
        "TLSV1_ALERT_NO_APPLICATION_PROTOCOL"
    );
}

#[test]
fn plaintext_is_wrong_version_number() {
    let mut c = Conn::client(&client_config()).unwrap();
    let _hello = c.transmit();
    let e = c
        .receive(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        .unwrap_err();
    assert_eq!(
        (e.kind, e.reason.as_str()),
        (ErrorKind::Protocol, "WRONG_VERSION_NUMBER")
    );
    let mut s = Conn::server(&server_config(&pki().server)).unwrap();
    let e = s.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err();
    assert_eq!(e.reason, "WRONG_VERSION_NUMBER", "{e:?}");
}

#[test]
fn eof_without_close_notify() {
    let (mut c, mut s, out) = connect(&client_config(), &server_config(&pki().server));
    assert!(out.ok());
    s.write(b"last").unwrap();
    let _ = pump(&mut c, &mut s);
    assert_eq!(c.receive(&[]).unwrap(), 0);
    assert_eq!(c.read(100).unwrap(), ReadResult::Data(b"last".to_vec()));
    let e = c.read(100).unwrap_err();
    assert_eq!(e.reason, "UNEXPECTED_EOF_WHILE_READING");
    // EOF in the middle of the handshake.
    let mut c = Conn::client(&client_config()).unwrap();
    let _ = c.transmit();
    c.receive(&[]).unwrap();
    assert_eq!(
        c.read(10).unwrap_err().reason,
        "UNEXPECTED_EOF_WHILE_READING"
    );
}

#[test]
fn bad_keys_and_certificates() {
    let mut sc = server_config(&pki().server);
    sc.private_key = b"not a key".to_vec();
    let e = Conn::server(&sc).err().unwrap();
    assert_eq!((e.kind, e.reason.as_str()), (ErrorKind::BadData, "PEM_LIB"));
    sc.private_key = pki().client.key.clone();
    let e = Conn::server(&sc).err().unwrap();
    assert_eq!(e.reason, "KEY_VALUES_MISMATCH", "{e:?}");
    let mut cc = client_config();
    cc.roots = vec![b"junk".to_vec()];
    assert_eq!(Conn::client(&cc).err().unwrap().reason, "PEM_LIB");
    sc.cert_chain.clear();
    assert_eq!(
        Conn::server(&sc).err().unwrap().kind,
        ErrorKind::InvalidArgument
    );
}
