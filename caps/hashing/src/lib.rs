//! Pylon hashing cap: the `pylon:hashing` WIT package implemented with pure-Rust
//! crates (RustCrypto, `blake3`, `xxhash-rust`).
//!
//! This file is only the WIT boundary. The work is in [`hashers`] (streaming
//! digests) and [`kdf`] (PBKDF2, scrypt, Argon2id), which are plain Rust and
//! tested natively with `cargo test`.

use std::cell::RefCell;

wit_bindgen::generate!({
    path: "wit",
    world: "hashing-cap",
});

pub mod hashers;
pub mod kdf;

pub use exports::pylon::hashing::hashing::{Algorithm, Error, ErrorKind};

use exports::pylon::hashing::hashing::{Guest as HashingGuest, GuestHasher, Hasher};
use exports::pylon::hashing::kdf::Guest as KdfGuest;

/// The type behind the exported `hasher` resource.
///
/// Resource methods get `&self`, so the state sits in a `RefCell`; a component
/// instance is single-threaded and no method re-enters another, so a borrow
/// can never already be held.
pub struct HasherResource {
    state: RefCell<hashers::HashState>,
}

impl GuestHasher for HasherResource {
    fn new(algorithm: Algorithm) -> Result<Self, Error> {
        Ok(HasherResource {
            state: RefCell::new(hashers::HashState::new(&algorithm)?),
        })
    }

    fn update(&self, data: Vec<u8>) {
        self.state.borrow_mut().update(&data);
    }

    fn digest(&self, length: Option<u32>) -> Result<Vec<u8>, Error> {
        self.state.borrow().digest(length)
    }

    fn copy(&self) -> Hasher {
        Hasher::new(HasherResource {
            state: RefCell::new(self.state.borrow().clone()),
        })
    }

    fn digest_size(&self) -> u32 {
        self.state.borrow().digest_size()
    }

    fn block_size(&self) -> u32 {
        self.state.borrow().block_size()
    }
}

/// The component itself; it only forwards to [`hashers`] and [`kdf`].
pub struct Component;

impl HashingGuest for Component {
    type Hasher = HasherResource;

    fn hash(algorithm: Algorithm, data: Vec<u8>, length: Option<u32>) -> Result<Vec<u8>, Error> {
        hashers::hash(&algorithm, &data, length)
    }
}

impl KdfGuest for Component {
    fn pbkdf2_hmac(
        hash_name: String,
        password: Vec<u8>,
        salt: Vec<u8>,
        iterations: i64,
        dklen: Option<i64>,
    ) -> Result<Vec<u8>, Error> {
        kdf::pbkdf2_hmac(&hash_name, &password, &salt, iterations, dklen)
    }

    fn scrypt(
        password: Vec<u8>,
        salt: Vec<u8>,
        n: u64,
        r: u64,
        p: u64,
        maxmem: i64,
        dklen: i64,
    ) -> Result<Vec<u8>, Error> {
        kdf::scrypt(&password, &salt, n, r, p, maxmem, dklen)
    }

    fn argon2id(
        password: Vec<u8>,
        salt: Vec<u8>,
        time_cost: u32,
        memory_cost_kib: u32,
        parallelism: u32,
        hash_len: u32,
        secret: Option<Vec<u8>>,
        associated_data: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, Error> {
        kdf::argon2id(&kdf::Argon2idParams {
            password: &password,
            salt: &salt,
            time_cost,
            memory_cost_kib,
            parallelism,
            hash_len,
            secret: secret.as_deref(),
            associated_data: associated_data.as_deref(),
        })
    }
}

// The export glue names its symbols after the WIT functions
// (`pylon:hashing/hashing@0.1.0#hash`), which a native linker's version script
// rejects. Natively the crate is only used by `cargo test` through the plain
// Rust API, so the glue is emitted for wasm only.
#[cfg(target_arch = "wasm32")]
export!(Component);

/// Error constructors shared by [`hashers`] and [`kdf`].
pub(crate) mod error {
    use super::{Error, ErrorKind};

    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        new(ErrorKind::InvalidParameter, message)
    }

    pub(crate) fn overflow(message: impl Into<String>) -> Error {
        new(ErrorKind::Overflow, message)
    }

    /// A zeroed output buffer of `len` bytes, or an `out-of-memory` error.
    ///
    /// Lengths here come from the caller (digest and key lengths). A plain
    /// `vec![0; len]` would abort the whole instance when the allocation
    /// fails; reserving first turns that into an ordinary error result.
    pub(crate) fn alloc_output(len: usize) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|_| {
            new(
                ErrorKind::OutOfMemory,
                format!("cannot allocate {len} bytes for the output"),
            )
        })?;
        out.resize(len, 0);
        Ok(out)
    }
}
