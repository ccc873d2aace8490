//! One TLS connection as a state machine over byte buffers (OpenSSL's
//! memory-BIO model): ciphertext in through `receive`, out through
//! `transmit`; plaintext through `read` and `write`.
//!
//! A server connection can also start without a configuration
//! (`server-awaiting-hello`): rustls' `Acceptor` collects the ClientHello,
//! the caller looks at it (OpenSSL's servername callback: `sni_callback`)
//! and `accept`s it with the configuration it picked, or `reject`s it with an
//! alert.

use std::io::{ErrorKind as IoKind, Read, Write};
use std::sync::Arc;

use rustls::server::{Accepted, Acceptor};
use rustls::{Connection, ProtocolVersion};

use crate::verify::{take_note, NoteCell};
use crate::{config, error, suites};
use crate::{CipherInfo, ClientConfig, ClientHello, Error, ReadResult, ServerConfig, TlsVersion};

/// The most plaintext one `read` returns, whatever `max` asks for (rustls
/// holds at most a few records of it anyway).
const READ_CHUNK: usize = 256 * 1024;

enum State {
    /// A client, or a server with its configuration.
    Open(Connection),
    /// A server collecting the ClientHello.
    Awaiting(Acceptor),
    /// A server holding a whole ClientHello, until `accept` or `reject`.
    Hello(Accepted),
    /// Failed or rejected before a connection existed: every call that
    /// could progress returns this error again.
    Refused(Error),
}

pub struct Conn {
    state: State,
    /// The verifier's note on the last certificate failure.
    note: NoteCell,
    /// Bytes for the peer from before a connection existed (an alert).
    early_out: Vec<u8>,
}

impl Conn {
    fn new(state: State, note: NoteCell) -> Conn {
        Conn {
            state,
            note,
            early_out: Vec::new(),
        }
    }

    pub fn client(c: &ClientConfig) -> Result<Conn, Error> {
        let cfg = config::client(c)?;
        let conn = rustls::ClientConnection::new(cfg.config, cfg.name)
            .map_err(|e| error::from_rustls(&e, false, None))?;
        Ok(Conn::new(State::Open(Connection::Client(conn)), cfg.note))
    }

    pub fn server(s: &ServerConfig) -> Result<Conn, Error> {
        let cfg = config::server(s)?;
        let conn = rustls::ServerConnection::new(cfg.config)
            .map_err(|e| error::from_rustls(&e, true, None))?;
        Ok(Conn::new(State::Open(Connection::Server(conn)), cfg.note))
    }

    pub fn server_awaiting_hello() -> Conn {
        Conn::new(State::Awaiting(Acceptor::default()), NoteCell::default())
    }

    /// The ClientHello, once it is in and until `accept` or `reject`.
    pub fn client_hello(&self) -> Option<ClientHello> {
        let State::Hello(accepted) = &self.state else {
            return None;
        };
        let hello = accepted.client_hello();
        Some(ClientHello {
            server_name: hello.server_name().map(str::to_string),
            alpn: hello
                .alpn()
                .map(|protocols| protocols.map(<[u8]>::to_vec).collect())
                .unwrap_or_default(),
        })
    }

    /// Continues the handshake the held ClientHello began, with `s`.
    pub fn accept(&mut self, s: &ServerConfig) -> Result<(), Error> {
        if !matches!(self.state, State::Hello(_)) {
            return Err(error::invalid(
                "SHUTDOWN_WHILE_IN_INIT",
                "accept: no ClientHello is waiting (the connection was not made by server-awaiting-hello, or is past its hello)",
            ));
        }
        // A configuration that cannot be built fails the handshake, as an
        // OpenSSL server without a usable certificate does.
        let cfg = match config::server(s) {
            Ok(cfg) => cfg,
            Err(e) => {
                self.refuse_with_alert(rustls::AlertDescription::InternalError, e.clone());
                return Err(e);
            }
        };
        let State::Hello(accepted) = std::mem::replace(
            &mut self.state,
            State::Refused(error::internal("accept in progress")),
        ) else {
            unreachable!("checked above");
        };
        match accepted.into_connection(Arc::clone(&cfg.config)) {
            Ok(conn) => {
                self.state = State::Open(Connection::Server(conn));
                self.note = cfg.note;
                Ok(())
            }
            Err((e, mut alert)) => {
                let _ = alert.write_all(&mut self.early_out);
                let err = error::from_rustls(&e, true, None);
                self.state = State::Refused(err.clone());
                Err(err)
            }
        }
    }

    /// Refuses the held ClientHello: a fatal `alert` goes to the peer and
    /// the handshake fails with OpenSSL's `CALLBACK_FAILED`.
    pub fn reject(&mut self, alert: u8) {
        let err = error::protocol("CALLBACK_FAILED", "callback failed");
        self.refuse_with_alert(rustls::AlertDescription::from(alert), err);
    }

    fn refuse_with_alert(&mut self, alert: rustls::AlertDescription, err: Error) {
        if matches!(self.state, State::Awaiting(_) | State::Hello(_)) {
            // Nothing is encrypted before the ServerHello: a plaintext alert
            // record (type 21, TLS 1.2 record version, level 2 = fatal).
            self.early_out
                .extend_from_slice(&[21, 3, 3, 0, 2, 2, u8::from(alert)]);
        }
        self.state = State::Refused(err);
    }

    fn open(&self) -> Option<&Connection> {
        match &self.state {
            State::Open(c) => Some(c),
            _ => None,
        }
    }

    fn process(conn: &mut Connection, note: &NoteCell) -> Result<(), Error> {
        match conn.process_new_packets() {
            Ok(_) => Ok(()),
            Err(e) => {
                let taken = take_note(note);
                let is_server = matches!(conn, Connection::Server(_));
                let err = error::from_rustls(&e, is_server, taken.clone());
                // Later calls get the same error from rustls: keep the note.
                if let (Some(n), Ok(mut cell)) = (taken, note.lock()) {
                    *cell = Some(n);
                }
                Err(err)
            }
        }
    }

    /// Takes ciphertext; empty `data` is the peer's end of stream.
    pub fn receive(&mut self, data: &[u8]) -> Result<u32, Error> {
        let taken = match &mut self.state {
            State::Open(conn) => Conn::receive_open(conn, &self.note, data)?,
            State::Awaiting(_) => self.receive_hello(data)?,
            // The hello is in: nothing more until `accept` decides.
            State::Hello(_) => 0,
            State::Refused(e) => return Err(e.clone()),
        };
        Ok(u32::try_from(taken).unwrap_or(u32::MAX))
    }

    fn receive_open(conn: &mut Connection, note: &NoteCell, data: &[u8]) -> Result<usize, Error> {
        if data.is_empty() {
            // read_tls on an empty reader is rustls' EOF.
            let _ = conn.read_tls(&mut &data[..]);
            Conn::process(conn, note)?;
            return Ok(0);
        }
        let mut taken = 0usize;
        while taken < data.len() {
            let mut rest = &data[taken..];
            match conn.read_tls(&mut rest) {
                // After close_notify rustls reads nothing more: what
                // follows it is discarded, as it can never be used.
                Ok(0) => {
                    taken = data.len();
                    break;
                }
                Ok(n) => taken += n,
                // Buffer full: the caller has to `read` first.
                Err(_) => break,
            }
            Conn::process(conn, note)?;
        }
        Ok(taken)
    }

    /// Feeds the Acceptor until it holds a whole ClientHello (then the state
    /// is `Hello`, and bytes after the hello stay with the caller).
    fn receive_hello(&mut self, data: &[u8]) -> Result<usize, Error> {
        let State::Awaiting(acceptor) = &mut self.state else {
            return Ok(0);
        };
        if data.is_empty() {
            let err = error::protocol(
                "UNEXPECTED_EOF_WHILE_READING",
                "EOF occurred in violation of protocol",
            );
            self.state = State::Refused(err.clone());
            return Err(err);
        }
        let mut taken = 0usize;
        while taken < data.len() {
            let mut rest = &data[taken..];
            match acceptor.read_tls(&mut rest) {
                Ok(0) | Err(_) => break,
                Ok(n) => taken += n,
            }
            match acceptor.accept() {
                Ok(None) => {}
                Ok(Some(accepted)) => {
                    self.state = State::Hello(accepted);
                    break;
                }
                Err((e, mut alert)) => {
                    let _ = alert.write_all(&mut self.early_out);
                    let err = error::from_rustls(&e, true, None);
                    self.state = State::Refused(err.clone());
                    return Err(err);
                }
            }
        }
        Ok(taken)
    }

    pub fn transmit(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.early_out);
        if let State::Open(conn) = &mut self.state {
            while conn.wants_write() {
                match conn.write_tls(&mut out) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        out
    }

    pub fn handshaking(&self) -> bool {
        match &self.state {
            State::Open(conn) => conn.is_handshaking(),
            State::Awaiting(_) | State::Hello(_) => true,
            State::Refused(_) => false,
        }
    }

    pub fn write(&mut self, data: &[u8]) -> Result<u32, Error> {
        let conn = match &mut self.state {
            State::Open(conn) => conn,
            State::Refused(e) => return Err(e.clone()),
            State::Awaiting(_) | State::Hello(_) => {
                return Err(error::protocol(
                    "UNKNOWN",
                    "write before the server has accepted the ClientHello",
                ))
            }
        };
        match conn.writer().write(data) {
            Ok(n) => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
            Err(e) => Err(error::protocol("UNKNOWN", format!("write failed: {e}"))),
        }
    }

    pub fn read(&mut self, max: u32) -> Result<ReadResult, Error> {
        let conn = match &mut self.state {
            State::Open(conn) => conn,
            State::Refused(e) => return Err(e.clone()),
            State::Awaiting(_) | State::Hello(_) => return Ok(ReadResult::WantRead),
        };
        let want = (max as usize).min(READ_CHUNK);
        if want == 0 {
            return Ok(ReadResult::WantRead);
        }
        let mut buf = vec![0u8; want];
        let mut got = 0usize;
        let outcome = loop {
            match conn.reader().read(&mut buf[got..]) {
                Ok(0) => break ReadResult::Closed,
                Ok(n) => {
                    got += n;
                    if got == want {
                        break ReadResult::WantRead;
                    }
                }
                Err(e) if e.kind() == IoKind::WouldBlock => break ReadResult::WantRead,
                Err(e) if e.kind() == IoKind::UnexpectedEof => {
                    if got > 0 {
                        break ReadResult::WantRead;
                    }
                    return Err(error::protocol(
                        "UNEXPECTED_EOF_WHILE_READING",
                        "EOF occurred in violation of protocol",
                    ));
                }
                Err(e) => return Err(error::protocol("UNKNOWN", format!("read failed: {e}"))),
            }
        };
        if got > 0 {
            buf.truncate(got);
            return Ok(ReadResult::Data(buf));
        }
        Ok(outcome)
    }

    /// Queues close_notify. Before a server has its configuration there is
    /// no session to close: the handshake is abandoned.
    pub fn close_notify(&mut self) {
        match &mut self.state {
            State::Open(conn) => conn.send_close_notify(),
            State::Awaiting(_) | State::Hello(_) => {
                self.state = State::Refused(error::protocol(
                    "SHUTDOWN_WHILE_IN_INIT",
                    "shutdown while in init",
                ))
            }
            State::Refused(_) => {}
        }
    }

    pub fn peer_certificates(&self) -> Vec<Vec<u8>> {
        self.open()
            .and_then(|c| c.peer_certificates())
            .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
            .unwrap_or_default()
    }

    pub fn version(&self) -> Option<TlsVersion> {
        match self.open()?.protocol_version()? {
            ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    pub fn cipher(&self) -> Option<CipherInfo> {
        self.open()?
            .negotiated_cipher_suite()
            .map(|s| suites::info(&s))
    }

    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.open()?.alpn_protocol().map(<[u8]>::to_vec)
    }

    pub fn server_name(&self) -> Option<String> {
        match &self.state {
            State::Open(Connection::Server(s)) => s.server_name().map(str::to_string),
            State::Hello(accepted) => accepted.client_hello().server_name().map(str::to_string),
            _ => None,
        }
    }
}
