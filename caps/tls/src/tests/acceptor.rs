//! Server connections that wait for the ClientHello (`server-awaiting-hello`):
//! the caller sees the hello, then accepts it with a configuration of its
//! choosing (sni_callback switching certificates) or rejects it with an alert.

use super::certs::pki;
use super::handshake::{client_config, pump, read_all, server_config};
use crate::conn::Conn;
use crate::{ClientHello, ErrorKind, ReadResult};

/// Client → awaiting server until the server holds the whole hello.
fn hello(c: &mut Conn, s: &mut Conn) -> ClientHello {
    assert!(s.handshaking());
    assert_eq!(s.client_hello(), None, "a hello before any byte came");
    let wire = c.transmit();
    assert!(!wire.is_empty(), "the client sent no ClientHello");
    // One byte at a time: the Acceptor must assemble a hello that comes in pieces.
    for (i, byte) in wire.iter().enumerate() {
        assert_eq!(s.client_hello(), None, "hello complete after {i} bytes");
        assert_eq!(s.receive(std::slice::from_ref(byte)).unwrap(), 1);
    }
    // Whole: nothing more is taken until the caller decides.
    assert_eq!(s.receive(b"\x16").unwrap(), 0);
    s.client_hello().expect("the hello is whole")
}

#[test]
fn accept_with_the_configuration_picked_from_the_hello() {
    let mut cc = client_config();
    cc.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut c = Conn::client(&cc).unwrap();
    let mut s = Conn::server_awaiting_hello();
    let h = hello(&mut c, &mut s);
    assert_eq!(h.server_name.as_deref(), Some("localhost"));
    assert_eq!(h.alpn, cc.alpn);
    assert_eq!(s.server_name().as_deref(), Some("localhost"));
    // Nothing to send, no session yet.
    assert!(s.transmit().is_empty());
    assert_eq!(s.version(), None);
    assert_eq!(s.read(10).unwrap(), ReadResult::WantRead);

    let mut sc = server_config(&pki().server);
    sc.alpn = vec![b"http/1.1".to_vec()];
    s.accept(&sc).unwrap();
    assert_eq!(s.client_hello(), None, "the hello is consumed by accept");
    let out = pump(&mut c, &mut s);
    assert!(out.ok(), "{out:?}");
    assert!(!c.handshaking() && !s.handshaking());
    assert_eq!(c.peer_certificates(), pki().server.chain);
    assert_eq!(c.alpn_protocol().as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(s.server_name().as_deref(), Some("localhost"));
    c.write(b"over the accepted session").unwrap();
    assert!(pump(&mut c, &mut s).ok());
    assert_eq!(read_all(&mut s).0, b"over the accepted session".to_vec());
}

#[test]
fn the_accepted_configuration_is_the_one_that_serves() {
    // The client trusts only `ca`: a switch to the self-signed identity must
    // be what the client sees, and fail its verification (18).
    let mut c = Conn::client(&client_config()).unwrap();
    let mut s = Conn::server_awaiting_hello();
    hello(&mut c, &mut s);
    s.accept(&server_config(&pki().self_signed)).unwrap();
    let out = pump(&mut c, &mut s);
    let err = out
        .client
        .expect("the client refused the self-signed certificate");
    assert_eq!(err.kind, ErrorKind::CertificateVerifyFailed);
    assert_eq!(err.verify_code, 18, "{err:?}");
}

#[test]
fn reject_sends_the_alert() {
    let mut c = Conn::client(&client_config()).unwrap();
    let mut s = Conn::server_awaiting_hello();
    hello(&mut c, &mut s);
    s.reject(112); // unrecognized_name
    assert!(!s.handshaking());
    let out = pump(&mut c, &mut s);
    let err = out.client.expect("the client saw the alert");
    assert_eq!(err.reason, "TLSV1_UNRECOGNIZED_NAME", "{err:?}");
    let again = s.receive(b"more").unwrap_err();
    assert_eq!(again.reason, "CALLBACK_FAILED");
    assert_eq!(s.write(b"x").unwrap_err().reason, "CALLBACK_FAILED");
}

#[test]
fn an_unusable_configuration_fails_the_handshake() {
    let mut c = Conn::client(&client_config()).unwrap();
    let mut s = Conn::server_awaiting_hello();
    hello(&mut c, &mut s);
    let mut sc = server_config(&pki().server);
    sc.cert_chain.clear();
    let err = s.accept(&sc).unwrap_err();
    assert_eq!(err.reason, "NO_CERTIFICATE_ASSIGNED");
    let out = pump(&mut c, &mut s);
    let seen = out.client.expect("the client saw an alert");
    assert_eq!(seen.reason, "TLSV1_ALERT_INTERNAL_ERROR", "{seen:?}");
}

#[test]
fn not_tls_and_early_eof_while_awaiting() {
    let mut s = Conn::server_awaiting_hello();
    let err = s.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert_eq!(err.reason, "WRONG_VERSION_NUMBER", "{err:?}");

    let mut c = Conn::client(&client_config()).unwrap();
    let mut s = Conn::server_awaiting_hello();
    let wire = c.transmit();
    s.receive(&wire[..10]).unwrap();
    let err = s.receive(b"").unwrap_err();
    assert_eq!(err.reason, "UNEXPECTED_EOF_WHILE_READING");
}

#[test]
fn accept_without_a_waiting_hello_is_refused() {
    let mut s = Conn::server_awaiting_hello();
    let err = s.accept(&server_config(&pki().server)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    let mut plain = Conn::server(&server_config(&pki().server)).unwrap();
    assert!(plain.accept(&server_config(&pki().server)).is_err());
}
