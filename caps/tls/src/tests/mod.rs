mod certs;
mod decode;
mod handshake;
