mod acceptor;
mod certs;
mod decode;
mod handshake;
mod key;
