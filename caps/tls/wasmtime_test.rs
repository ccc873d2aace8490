//! The tls cap as a component in wasmtime: a client and a server connection
//! both inside one instance, the handshake and data pumped through the WIT
//! boundary, a verification failure coming back as an `Err` (not a trap), a
//! server that picks its configuration after the ClientHello,
//! `decode-certificate`, `check-key-pair`, `decrypt-private-key` and the
//! library facts. Run by
//! `cargo test -p pylon-cap-tests` against the component caps-sync published.

use pylon_cap_tests::{harness, Host};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

wasmtime::component::bindgen!({
    path: "../../caps/tls/wit",
    world: "tls-cap",
});

use exports::pylon::tls::tls::{
    CertificateInfo, ClientAuth, ClientConfig, Error, ErrorKind, ReadResult, ServerConfig,
    TlsVersion,
};

// Fixed test certificates (ECDSA P-256, made with rcgen 0.14.10, valid
// 2025-01-01 to 2099-12-31): a CA, a leaf for "localhost" (O=Pylon, serial
// 0x1234) signed by it, and the leaf's PKCS#8 key. The native tests in
// src/tests generate theirs at test time; this crate has no rcgen.
const CA_HEX: &str = "\
    308201873082012ea0030201020214162d0f682e707c90eb993a03b34b87e42c741795300a06082a8648ce3d\
    0403023021311f301d06035504030c1650796c6f6e207761736d74696d6520746573742043413020170d3235\
    303130313030303030305a180f32303939313233313030303030305a3021311f301d06035504030c1650796c\
    6f6e207761736d74696d6520746573742043413059301306072a8648ce3d020106082a8648ce3d0301070342\
    0004d8573ec926d69999767bb52d4bd73b42413dfd748bbbf02eeb758546318134f1b05436d29e82731abb2f\
    7b05b25fcad291b9a354d280961a63a4415fa132a78fa3423040300e0603551d0f0101ff040403020106301d\
    0603551d0e04160414048c19e8215ea36f5dfdbb09ddec1b36a7cf1ede300f0603551d130101ff0405300301\
    01ff300a06082a8648ce3d0403020347003044022000c769241860e129f38b1bf757bbf4cbbecf56e90b3e50\
    f023059cc1521f9d23022076ab3b8c82323dbfd80e639fd6d780adc193e6beaccf08deeb5dfcc405036bbe";
const LEAF_HEX: &str = "\
    3082014f3081f5a00302010202021234300a06082a8648ce3d0403023021311f301d06035504030c1650796c\
    6f6e207761736d74696d6520746573742043413020170d3235303130313030303030305a180f323039393132\
    33313030303030305a30243112301006035504030c096c6f63616c686f7374310e300c060355040a0c055079\
    6c6f6e3059301306072a8648ce3d020106082a8648ce3d030107034200045279b804bf71cdd7ed24c49b2742\
    1a66df37f8f06551916cc000ef01fff7941d3f69fac3d09da5103f103572648c54941bd864fc049e749e18f4\
    d020cd0038a3a318301630140603551d11040d300b82096c6f63616c686f7374300a06082a8648ce3d040302\
    0349003046022100e9b9d6aecb42ddb69337726ef67f5d4e20f6b343d0685a1ea90c63bffce12c43022100b2\
    f7f24e0e390ea77eb3617b9aca0b7236af8afc52472b07ad91a448e3c83320";
const KEY_HEX: &str = "\
    308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b020101042016ee2f97d11dc711\
    c2f351fb469716fdfddf7aabcb775e023f21a3251d8eed3aa144034200045279b804bf71cdd7ed24c49b2742\
    1a66df37f8f06551916cc000ef01fff7941d3f69fac3d09da5103f103572648c54941bd864fc049e749e18f4\
    d020cd0038a3";

fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn client_config(server_name: &str) -> ClientConfig {
    ClientConfig {
        roots: vec![unhex(CA_HEX)],
        default_roots: false,
        verify: true,
        check_hostname: true,
        server_name: Some(server_name.to_string()),
        alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        min_version: TlsVersion::Tls12,
        max_version: TlsVersion::Tls13,
        cert_chain: Vec::new(),
        private_key: None,
        cipher_suites: Vec::new(),
    }
}

fn server_config() -> ServerConfig {
    ServerConfig {
        cert_chain: vec![unhex(LEAF_HEX), unhex(CA_HEX)],
        private_key: unhex(KEY_HEX),
        alpn: vec![b"http/1.1".to_vec()],
        min_version: TlsVersion::Tls12,
        max_version: TlsVersion::Tls13,
        client_auth: ClientAuth::None,
        client_roots: Vec::new(),
        cipher_suites: Vec::new(),
    }
}

struct Cap {
    store: Store<Host>,
    cap: TlsCap,
}

/// Each wrapper: the outer `Result` is a trap (a bug), the inner one the
/// cap's own error.
impl Cap {
    fn new() -> Cap {
        let mut h = harness("tls");
        let cap = TlsCap::instantiate(&mut h.store, &h.component, &h.linker)
            .expect("instantiate the tls cap");
        Cap {
            store: h.store,
            cap,
        }
    }

    fn client(&mut self, c: &ClientConfig) -> Result<ResourceAny, Error> {
        let tls = self.cap.pylon_tls_tls();
        tls.connection()
            .call_client(&mut self.store, c)
            .expect("client does not trap")
    }

    fn server(&mut self, s: &ServerConfig) -> Result<ResourceAny, Error> {
        let tls = self.cap.pylon_tls_tls();
        tls.connection()
            .call_server(&mut self.store, s)
            .expect("server does not trap")
    }

    fn receive(&mut self, conn: ResourceAny, data: &[u8]) -> Result<u32, Error> {
        let tls = self.cap.pylon_tls_tls();
        tls.connection()
            .call_receive(&mut self.store, conn, data)
            .expect("receive does not trap")
    }

    fn transmit(&mut self, conn: ResourceAny) -> Vec<u8> {
        let tls = self.cap.pylon_tls_tls();
        tls.connection()
            .call_transmit(&mut self.store, conn)
            .expect("transmit does not trap")
    }

    fn handshaking(&mut self, conn: ResourceAny) -> bool {
        let tls = self.cap.pylon_tls_tls();
        tls.connection()
            .call_handshaking(&mut self.store, conn)
            .expect("handshaking does not trap")
    }

    fn write(&mut self, conn: ResourceAny, data: &[u8]) -> Result<u32, Error> {
        let tls = self.cap.pylon_tls_tls();
        tls.connection()
            .call_write(&mut self.store, conn, data)
            .expect("write does not trap")
    }

    fn read(&mut self, conn: ResourceAny, max: u32) -> Result<ReadResult, Error> {
        let tls = self.cap.pylon_tls_tls();
        tls.connection()
            .call_read(&mut self.store, conn, max)
            .expect("read does not trap")
    }

    fn close_notify(&mut self, conn: ResourceAny) {
        let tls = self.cap.pylon_tls_tls();
        tls.connection()
            .call_close_notify(&mut self.store, conn)
            .expect("close-notify does not trap")
    }

    /// Moves bytes both ways until neither side sends; the first error of
    /// each side (client, server).
    fn pump(&mut self, c: ResourceAny, s: ResourceAny) -> (Option<Error>, Option<Error>) {
        let (mut ce, mut se) = (None, None);
        for _ in 0..16 {
            let to_server = self.transmit(c);
            if !to_server.is_empty() && se.is_none() {
                se = self.receive(s, &to_server).err();
            }
            let to_client = self.transmit(s);
            if !to_client.is_empty() && ce.is_none() {
                ce = self.receive(c, &to_client).err();
            }
            if to_server.is_empty() && to_client.is_empty() {
                break;
            }
        }
        (ce, se)
    }

    /// `read` as a value the test can compare: Some(data), or None for
    /// want-read and Some(b"<closed>") for closed.
    fn read_data(&mut self, conn: ResourceAny, max: u32) -> Option<Vec<u8>> {
        match self.read(conn, max).expect("read") {
            ReadResult::Data(d) => Some(d),
            ReadResult::WantRead => None,
            ReadResult::Closed => Some(b"<closed>".to_vec()),
        }
    }

    fn decode(&mut self, der: &[u8]) -> Result<CertificateInfo, Error> {
        self.cap
            .pylon_tls_tls()
            .call_decode_certificate(&mut self.store, der)
            .expect("decode-certificate does not trap")
    }
}

#[test]
fn handshake_and_data_through_the_boundary() {
    let mut cap = Cap::new();
    let c = cap.client(&client_config("localhost")).expect("client");
    let s = cap.server(&server_config()).expect("server");
    assert!(cap.handshaking(c));
    let (ce, se) = cap.pump(c, s);
    assert!(ce.is_none() && se.is_none(), "{ce:?} {se:?}");
    assert!(!cap.handshaking(c) && !cap.handshaking(s));

    let tls = cap.cap.pylon_tls_tls();
    let conn = tls.connection();
    let version = conn.call_version(&mut cap.store, c).unwrap();
    assert_eq!(version, Some(TlsVersion::Tls13));
    let cipher = conn
        .call_cipher(&mut cap.store, c)
        .unwrap()
        .expect("a cipher");
    assert!(cipher.name.starts_with("TLS_"), "{cipher:?}");
    let alpn = conn.call_alpn_protocol(&mut cap.store, s).unwrap();
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    let sni = conn.call_server_name(&mut cap.store, s).unwrap();
    assert_eq!(sni.as_deref(), Some("localhost"));
    let peer = conn.call_peer_certificates(&mut cap.store, c).unwrap();
    assert_eq!(peer, vec![unhex(LEAF_HEX), unhex(CA_HEX)]);

    assert_eq!(cap.write(c, b"hello server").unwrap(), 12);
    assert_eq!(cap.read_data(s, 100), None);
    let _ = cap.pump(c, s);
    assert_eq!(cap.read_data(s, 100).as_deref(), Some(&b"hello server"[..]));
    assert_eq!(cap.write(s, b"hello client").unwrap(), 12);
    let _ = cap.pump(c, s);
    assert_eq!(cap.read_data(c, 5).as_deref(), Some(&b"hello"[..]));
    assert_eq!(cap.read_data(c, 100).as_deref(), Some(&b" client"[..]));
    cap.close_notify(c);
    let _ = cap.pump(c, s);
    assert_eq!(cap.read_data(s, 100).as_deref(), Some(&b"<closed>"[..]));
    c.resource_drop(&mut cap.store).expect("drop client");
    s.resource_drop(&mut cap.store).expect("drop server");
}

#[test]
fn verify_failure_is_an_error_not_a_trap() {
    let mut cap = Cap::new();
    let c = cap.client(&client_config("wrong.example")).expect("client");
    let s = cap.server(&server_config()).expect("server");
    let (ce, se) = cap.pump(c, s);
    let e = ce.expect("the client fails");
    assert_eq!(e.kind, ErrorKind::CertificateVerifyFailed);
    assert_eq!(e.reason, "CERTIFICATE_VERIFY_FAILED");
    assert_eq!(e.verify_code, 62);
    assert!(e.message.contains("Hostname mismatch"), "{}", e.message);
    assert_eq!(
        se.expect("the server gets the alert").kind,
        ErrorKind::Protocol
    );

    // Garbage where a ServerHello should be.
    let c = cap.client(&client_config("localhost")).expect("client");
    let _hello = cap.transmit(c);
    let e = cap.receive(c, b"HTTP/1.0 200 OK\r\n\r\n").unwrap_err();
    assert_eq!(e.reason, "WRONG_VERSION_NUMBER");

    // A bad configuration.
    let mut sc = server_config();
    sc.private_key = b"junk".to_vec();
    assert_eq!(cap.server(&sc).unwrap_err().reason, "PEM_LIB");
    let mut cc = client_config("localhost");
    cc.cipher_suites = vec!["NOPE".to_string()];
    assert_eq!(cap.client(&cc).unwrap_err().reason, "NO_CIPHER_MATCH");
}

#[test]
fn certificates_and_library_facts() {
    let mut cap = Cap::new();
    let info = cap.decode(&unhex(LEAF_HEX)).expect("decode");
    assert_eq!(info.version, 3);
    assert_eq!(info.serial_number, "1234");
    assert_eq!(info.subject[0][0].name, "commonName");
    assert_eq!(info.subject[0][0].value, "localhost");
    assert_eq!(info.subject[1][0].name, "organizationName");
    assert_eq!(info.issuer[0][0].value, "Pylon wasmtime test CA");
    assert_eq!(info.not_before, "Jan  1 00:00:00 2025 GMT");
    assert_eq!(info.not_after, "Dec 31 00:00:00 2099 GMT");
    assert_eq!(
        info.subject_alt_names,
        vec![("DNS".to_string(), "localhost".to_string())]
    );
    assert_eq!(cap.decode(b"junk").unwrap_err().kind, ErrorKind::BadData);

    let tls = cap.cap.pylon_tls_tls();
    let ok = tls
        .call_check_key_pair(&mut cap.store, &unhex(LEAF_HEX), &unhex(KEY_HEX))
        .unwrap();
    ok.expect("the key is the leaf's");
    let bad = tls
        .call_check_key_pair(&mut cap.store, &unhex(CA_HEX), &unhex(KEY_HEX))
        .unwrap();
    assert_eq!(bad.unwrap_err().reason, "KEY_VALUES_MISMATCH");
    let roots = tls.call_default_root_count(&mut cap.store).unwrap();
    assert!(roots > 100, "{roots}");
    let version = tls.call_library_version(&mut cap.store).unwrap();
    assert!(version.starts_with("rustls 0.23."), "{version}");
    assert!(version.contains("(ring 0.17."), "{version}");
}

#[test]
fn server_configured_after_the_client_hello() {
    let mut cap = Cap::new();
    let mut cc = client_config("localhost");
    cc.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let c = cap.client(&cc).expect("client");
    let tls = cap.cap.pylon_tls_tls();
    let conn = tls.connection();
    let s = conn
        .call_server_awaiting_hello(&mut cap.store)
        .expect("server-awaiting-hello does not trap");
    assert!(conn.call_client_hello(&mut cap.store, s).unwrap().is_none());
    let hello_bytes = cap.transmit(c);
    let taken = cap.receive(s, &hello_bytes).expect("the hello is taken");
    assert_eq!(taken as usize, hello_bytes.len());
    let tls = cap.cap.pylon_tls_tls();
    let conn = tls.connection();
    let hello = conn
        .call_client_hello(&mut cap.store, s)
        .unwrap()
        .expect("the hello is whole");
    assert_eq!(hello.server_name.as_deref(), Some("localhost"));
    assert_eq!(hello.alpn, cc.alpn);
    conn.call_accept(&mut cap.store, s, &server_config())
        .unwrap()
        .expect("accept");
    let (ce, se) = cap.pump(c, s);
    assert!(ce.is_none() && se.is_none(), "{ce:?} {se:?}");
    assert!(!cap.handshaking(c) && !cap.handshaking(s));
    assert_eq!(cap.write(c, b"after accept").unwrap(), 12);
    let _ = cap.pump(c, s);
    assert_eq!(cap.read_data(s, 100).as_deref(), Some(&b"after accept"[..]));

    // Rejected: the client gets the alert, the server CALLBACK_FAILED.
    let c = cap.client(&client_config("nobody.example")).expect("client");
    let tls = cap.cap.pylon_tls_tls();
    let conn = tls.connection();
    let s = conn.call_server_awaiting_hello(&mut cap.store).unwrap();
    let hello_bytes = cap.transmit(c);
    cap.receive(s, &hello_bytes).expect("the hello is taken");
    let tls = cap.cap.pylon_tls_tls();
    tls.connection()
        .call_reject(&mut cap.store, s, 112)
        .expect("reject does not trap");
    let (ce, _) = cap.pump(c, s);
    assert_eq!(ce.expect("the client fails").reason, "TLSV1_UNRECOGNIZED_NAME");
    assert_eq!(cap.receive(s, b"x").unwrap_err().reason, "CALLBACK_FAILED");
}

#[test]
fn encrypted_private_keys() {
    // Made by OpenSSL 3.0 (`openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf
    // hmacWithSHA256`; src/tests/key.rs has the whole set).
    let encrypted = include_bytes!("src/tests/keys/pbes2-aes256-sha256.der");
    let plain = include_bytes!("src/tests/keys/plain-pkcs8.der");
    let mut cap = Cap::new();
    let tls = cap.cap.pylon_tls_tls();
    let got = tls
        .call_decrypt_private_key(&mut cap.store, encrypted, None, b"pylon-key-pass")
        .expect("decrypt-private-key does not trap");
    assert_eq!(got.expect("decrypted"), plain.to_vec());
    let wrong = tls
        .call_decrypt_private_key(&mut cap.store, encrypted, None, b"not it")
        .unwrap();
    assert_eq!(wrong.unwrap_err().reason, "BAD_DECRYPT");
    let junk = tls
        .call_decrypt_private_key(&mut cap.store, b"junk", Some("AES-128-CBC,00"), b"x")
        .unwrap();
    assert_eq!(junk.unwrap_err().reason, "PEM_LIB");
}
