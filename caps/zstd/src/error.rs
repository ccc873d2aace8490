//! Constructors for the WIT `error` record.

use crate::{Error, ErrorKind};

pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error {
        kind,
        message: message.into(),
    }
}

pub fn invalid(message: impl Into<String>) -> Error {
    new(ErrorKind::InvalidArgument, message)
}

pub fn corrupt(message: impl Into<String>) -> Error {
    new(ErrorKind::CorruptData, message)
}

pub fn dictionary(message: impl Into<String>) -> Error {
    new(ErrorKind::Dictionary, message)
}

pub fn internal(message: impl Into<String>) -> Error {
    new(ErrorKind::Internal, message)
}

/// CPython's message for input that stops inside a frame.
pub const TRUNCATED: &str = "Compressed data ended before the end-of-stream marker was reached";
