//! Pylon tls cap: the `pylon:tls` WIT package (world `tls-cap`) implemented
//! with rustls, ring as its crypto provider, rustls-webpki for certificate
//! checks, webpki-roots for the default trust anchors and x509-parser for
//! `decode-certificate`.
//!
//! This file is only the WIT boundary. The work is in [`conn`] (the
//! connection state machine), [`config`] (WIT configs → rustls configs),
//! [`verify`] (verification policies and OpenSSL verify codes), [`error`]
//! (rustls errors → OpenSSL reasons), [`key`] (encrypted private keys),
//! [`suites`] and [`cert`], all plain
//! Rust tested natively with `cargo test`.

use std::cell::RefCell;

wit_bindgen::generate!({
    path: "wit",
    world: "tls-cap",
    // Lets results (including `error`) be compared, in tests and in code.
    additional_derives: [PartialEq, Eq],
});

pub mod cert;
pub mod config;
pub mod conn;
pub mod error;
pub mod key;
pub mod suites;
pub mod verify;

#[cfg(test)]
mod tests;

pub use exports::pylon::tls::tls::{
    CertificateInfo, CipherInfo, ClientAuth, ClientConfig, ClientHello, Error, ErrorKind,
    NameAttribute, ReadResult, ServerConfig, TlsVersion,
};

use exports::pylon::tls::tls::{Connection, Guest, GuestConnection};

/// The versions of the crates doing the work, as Cargo.lock pins them (a
/// test checks them against it).
pub const RUSTLS_VERSION: &str = "0.23.46";
pub const RING_VERSION: &str = "0.17.14";
pub const WEBPKI_ROOTS_VERSION: &str = "1.0.10";

pub fn library_version() -> String {
    format!("rustls {RUSTLS_VERSION} (ring {RING_VERSION}, webpki-roots {WEBPKI_ROOTS_VERSION})")
}

/// The type behind the exported `connection` resource.
///
/// Resource methods get `&self`, so the state sits in a `RefCell`; a
/// component instance is single-threaded and no method re-enters another,
/// so a borrow can never already be held.
pub struct ConnectionResource {
    state: RefCell<conn::Conn>,
}

impl GuestConnection for ConnectionResource {
    fn client(config: ClientConfig) -> Result<Connection, Error> {
        let state = RefCell::new(conn::Conn::client(&config)?);
        Ok(Connection::new(ConnectionResource { state }))
    }

    fn server(config: ServerConfig) -> Result<Connection, Error> {
        let state = RefCell::new(conn::Conn::server(&config)?);
        Ok(Connection::new(ConnectionResource { state }))
    }

    fn server_awaiting_hello() -> Connection {
        let state = RefCell::new(conn::Conn::server_awaiting_hello());
        Connection::new(ConnectionResource { state })
    }

    fn client_hello(&self) -> Option<ClientHello> {
        self.state.borrow().client_hello()
    }

    fn accept(&self, config: ServerConfig) -> Result<(), Error> {
        self.state.borrow_mut().accept(&config)
    }

    fn reject(&self, alert: u8) {
        self.state.borrow_mut().reject(alert)
    }

    fn receive(&self, data: Vec<u8>) -> Result<u32, Error> {
        self.state.borrow_mut().receive(&data)
    }

    fn transmit(&self) -> Vec<u8> {
        self.state.borrow_mut().transmit()
    }

    fn handshaking(&self) -> bool {
        self.state.borrow().handshaking()
    }

    fn write(&self, data: Vec<u8>) -> Result<u32, Error> {
        self.state.borrow_mut().write(&data)
    }

    fn read(&self, max: u32) -> Result<ReadResult, Error> {
        self.state.borrow_mut().read(max)
    }

    fn close_notify(&self) {
        self.state.borrow_mut().close_notify()
    }

    fn peer_certificates(&self) -> Vec<Vec<u8>> {
        self.state.borrow().peer_certificates()
    }

    fn version(&self) -> Option<TlsVersion> {
        self.state.borrow().version()
    }

    fn cipher(&self) -> Option<CipherInfo> {
        self.state.borrow().cipher()
    }

    fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.state.borrow().alpn_protocol()
    }

    fn server_name(&self) -> Option<String> {
        self.state.borrow().server_name()
    }
}

// Only exported on wasm: on a native host the export names (which contain
// `:` and `@`) are not valid symbol names for the linker's version script, so
// the native build (used by `cargo test`) checks the glue but exports nothing.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    type Connection = ConnectionResource;

    fn decode_certificate(der: Vec<u8>) -> Result<CertificateInfo, Error> {
        cert::decode(&der)
    }

    fn default_root_count() -> u32 {
        u32::try_from(webpki_roots::TLS_SERVER_ROOTS.len()).unwrap_or(u32::MAX)
    }

    fn check_key_pair(cert: Vec<u8>, private_key: Vec<u8>) -> Result<(), Error> {
        config::check_key_pair(&cert, &private_key)
    }

    fn decrypt_private_key(
        der: Vec<u8>,
        dek_info: Option<String>,
        password: Vec<u8>,
    ) -> Result<Vec<u8>, Error> {
        key::decrypt(&der, dek_info.as_deref(), &password)
    }

    fn library_version() -> String {
        library_version()
    }
}

#[cfg(target_arch = "wasm32")]
export!(Component);
