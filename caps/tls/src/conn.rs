//! One TLS connection as a state machine over byte buffers (OpenSSL's
//! memory-BIO model): ciphertext in through `receive`, out through
//! `transmit`; plaintext through `read` and `write`.

use std::io::{ErrorKind as IoKind, Read, Write};

use rustls::{Connection, ProtocolVersion};

use crate::verify::{take_note, NoteCell};
use crate::{config, error, suites};
use crate::{CipherInfo, ClientConfig, Error, ReadResult, ServerConfig, TlsVersion};

/// The most plaintext one `read` returns, whatever `max` asks for (rustls
/// holds at most a few records of it anyway).
const READ_CHUNK: usize = 256 * 1024;

pub struct Conn {
    inner: Connection,
    /// The verifier's note on the last certificate failure.
    note: NoteCell,
}

impl Conn {
    pub fn client(c: &ClientConfig) -> Result<Conn, Error> {
        let cfg = config::client(c)?;
        let conn = rustls::ClientConnection::new(cfg.config, cfg.name)
            .map_err(|e| error::from_rustls(&e, false, None))?;
        Ok(Conn {
            inner: Connection::Client(conn),
            note: cfg.note,
        })
    }

    pub fn server(s: &ServerConfig) -> Result<Conn, Error> {
        let cfg = config::server(s)?;
        let conn = rustls::ServerConnection::new(cfg.config)
            .map_err(|e| error::from_rustls(&e, true, None))?;
        Ok(Conn {
            inner: Connection::Server(conn),
            note: cfg.note,
        })
    }

    fn is_server(&self) -> bool {
        matches!(self.inner, Connection::Server(_))
    }

    fn process(&mut self) -> Result<(), Error> {
        match self.inner.process_new_packets() {
            Ok(_) => Ok(()),
            Err(e) => {
                let note = take_note(&self.note);
                let err = error::from_rustls(&e, self.is_server(), note.clone());
                // Later calls get the same error from rustls: keep the note.
                if let (Some(n), Ok(mut cell)) = (note, self.note.lock()) {
                    *cell = Some(n);
                }
                Err(err)
            }
        }
    }

    /// Takes ciphertext; empty `data` is the peer's end of stream.
    pub fn receive(&mut self, data: &[u8]) -> Result<u32, Error> {
        if data.is_empty() {
            // read_tls on an empty reader is rustls' EOF.
            let _ = self.inner.read_tls(&mut &data[..]);
            self.process()?;
            return Ok(0);
        }
        let mut taken = 0usize;
        while taken < data.len() {
            let mut rest = &data[taken..];
            match self.inner.read_tls(&mut rest) {
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
            self.process()?;
        }
        Ok(u32::try_from(taken).unwrap_or(u32::MAX))
    }

    pub fn transmit(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.inner.wants_write() {
            match self.inner.write_tls(&mut out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        out
    }

    pub fn handshaking(&self) -> bool {
        self.inner.is_handshaking()
    }

    pub fn write(&mut self, data: &[u8]) -> Result<u32, Error> {
        match self.inner.writer().write(data) {
            Ok(n) => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
            Err(e) => Err(error::protocol("UNKNOWN", format!("write failed: {e}"))),
        }
    }

    pub fn read(&mut self, max: u32) -> Result<ReadResult, Error> {
        let want = (max as usize).min(READ_CHUNK);
        if want == 0 {
            return Ok(ReadResult::WantRead);
        }
        let mut buf = vec![0u8; want];
        let mut got = 0usize;
        let outcome = loop {
            match self.inner.reader().read(&mut buf[got..]) {
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

    pub fn close_notify(&mut self) {
        self.inner.send_close_notify();
    }

    pub fn peer_certificates(&self) -> Vec<Vec<u8>> {
        self.inner
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
            .unwrap_or_default()
    }

    pub fn version(&self) -> Option<TlsVersion> {
        match self.inner.protocol_version()? {
            ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    pub fn cipher(&self) -> Option<CipherInfo> {
        self.inner
            .negotiated_cipher_suite()
            .map(|s| suites::info(&s))
    }

    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.inner.alpn_protocol().map(<[u8]>::to_vec)
    }

    pub fn server_name(&self) -> Option<String> {
        match &self.inner {
            Connection::Server(s) => s.server_name().map(str::to_string),
            Connection::Client(_) => None,
        }
    }
}
