//! Streaming message digests behind the `hasher` resource and `hash`.
#![forbid(unsafe_code)]

// Only the digest-0.11 traits below, not `Digest`: with both `Digest` and
// `Update` in scope, `update` would be ambiguous on the SHA types.
use sha2::digest::{ExtendableOutput as _, FixedOutput as _, Update as _, XofReader as _};
use xxhash_rust::{xxh3::Xxh3, xxh64::Xxh64};

use crate::error::{alloc_output, invalid};
use crate::{Algorithm, Error};

/// Extendable output is capped below 2^29 bytes, as CPython caps SHAKE output
/// (`ValueError: length is too large`). It also keeps a single result well
/// inside a 32-bit address space.
pub const MAX_XOF_LEN: u32 = (1 << 29) - 1;

/// BLAKE3's default output length, and its length for `digest-size`.
const BLAKE3_DEFAULT_LEN: u32 = blake3::OUT_LEN as u32;

/// A hash state. Every variant is `Clone`, which is what `copy` and the
/// non-consuming `digest` need.
///
/// The BLAKE3 and XXH3 states are boxed: they are much larger (about 1.9 KiB
/// and 0.6 KiB) than the SHA states, and boxing keeps the enum small.
#[derive(Clone)]
pub enum HashState {
    Blake3(Box<blake3::Hasher>),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
    Sha3_224(sha3::Sha3_224),
    Sha3_256(sha3::Sha3_256),
    Sha3_384(sha3::Sha3_384),
    Sha3_512(sha3::Sha3_512),
    Shake128(shake::Shake128),
    Shake256(shake::Shake256),
    Xxh3_64(Box<Xxh3>),
    Xxh3_128(Box<Xxh3>),
    Xxh64(Xxh64),
}

impl HashState {
    /// Fresh state for `algorithm`. Fails only for a BLAKE3 key that is not
    /// exactly 32 bytes.
    pub fn new(algorithm: &Algorithm) -> Result<Self, Error> {
        Ok(match algorithm {
            Algorithm::Blake3 => Self::Blake3(Box::new(blake3::Hasher::new())),
            Algorithm::Blake3Keyed(key) => {
                let key: &[u8; blake3::KEY_LEN] = key.as_slice().try_into().map_err(|_| {
                    invalid(format!(
                        "blake3 key must be exactly {} bytes, got {}",
                        blake3::KEY_LEN,
                        key.len()
                    ))
                })?;
                Self::Blake3(Box::new(blake3::Hasher::new_keyed(key)))
            }
            Algorithm::Blake3DeriveKey(context) => {
                Self::Blake3(Box::new(blake3::Hasher::new_derive_key(context)))
            }
            Algorithm::Sha224 => Self::Sha224(sha2::Sha224::default()),
            Algorithm::Sha256 => Self::Sha256(sha2::Sha256::default()),
            Algorithm::Sha384 => Self::Sha384(sha2::Sha384::default()),
            Algorithm::Sha512 => Self::Sha512(sha2::Sha512::default()),
            Algorithm::Sha3224 => Self::Sha3_224(sha3::Sha3_224::default()),
            Algorithm::Sha3256 => Self::Sha3_256(sha3::Sha3_256::default()),
            Algorithm::Sha3384 => Self::Sha3_384(sha3::Sha3_384::default()),
            Algorithm::Sha3512 => Self::Sha3_512(sha3::Sha3_512::default()),
            Algorithm::Shake128 => Self::Shake128(shake::Shake128::default()),
            Algorithm::Shake256 => Self::Shake256(shake::Shake256::default()),
            Algorithm::Xxh364(seed) => Self::Xxh3_64(Box::new(Xxh3::with_seed(*seed))),
            Algorithm::Xxh3128(seed) => Self::Xxh3_128(Box::new(Xxh3::with_seed(*seed))),
            Algorithm::Xxh64(seed) => Self::Xxh64(Xxh64::new(*seed)),
        })
    }

    /// Python's name for the algorithm, used in error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Blake3(_) => "blake3",
            Self::Sha224(_) => "sha224",
            Self::Sha256(_) => "sha256",
            Self::Sha384(_) => "sha384",
            Self::Sha512(_) => "sha512",
            Self::Sha3_224(_) => "sha3_224",
            Self::Sha3_256(_) => "sha3_256",
            Self::Sha3_384(_) => "sha3_384",
            Self::Sha3_512(_) => "sha3_512",
            Self::Shake128(_) => "shake_128",
            Self::Shake256(_) => "shake_256",
            Self::Xxh3_64(_) => "xxh3_64",
            Self::Xxh3_128(_) => "xxh3_128",
            Self::Xxh64(_) => "xxh64",
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Blake3(h) => {
                h.update(data);
            }
            Self::Sha224(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
            Self::Sha3_224(h) => h.update(data),
            Self::Sha3_256(h) => h.update(data),
            Self::Sha3_384(h) => h.update(data),
            Self::Sha3_512(h) => h.update(data),
            Self::Shake128(h) => h.update(data),
            Self::Shake256(h) => h.update(data),
            Self::Xxh3_64(h) | Self::Xxh3_128(h) => h.update(data),
            Self::Xxh64(h) => h.update(data),
        }
    }

    /// Digest of everything fed so far; the state is left as it was.
    ///
    /// The RustCrypto `finalize` methods consume the hasher, so those states
    /// are finalized on a clone. BLAKE3 and xxHash finalize by reference.
    pub fn digest(&self, length: Option<u32>) -> Result<Vec<u8>, Error> {
        match self {
            Self::Blake3(h) => {
                let mut out = self.xof_output(length.unwrap_or(BLAKE3_DEFAULT_LEN))?;
                h.finalize_xof().fill(&mut out);
                Ok(out)
            }
            Self::Shake128(h) => {
                let mut out = self.xof_output(self.required_length(length)?)?;
                h.clone().finalize_xof().read(&mut out);
                Ok(out)
            }
            Self::Shake256(h) => {
                let mut out = self.xof_output(self.required_length(length)?)?;
                h.clone().finalize_xof().read(&mut out);
                Ok(out)
            }
            Self::Sha224(h) => self.fixed(length, || h.clone().finalize_fixed().to_vec()),
            Self::Sha256(h) => self.fixed(length, || h.clone().finalize_fixed().to_vec()),
            Self::Sha384(h) => self.fixed(length, || h.clone().finalize_fixed().to_vec()),
            Self::Sha512(h) => self.fixed(length, || h.clone().finalize_fixed().to_vec()),
            Self::Sha3_224(h) => self.fixed(length, || h.clone().finalize_fixed().to_vec()),
            Self::Sha3_256(h) => self.fixed(length, || h.clone().finalize_fixed().to_vec()),
            Self::Sha3_384(h) => self.fixed(length, || h.clone().finalize_fixed().to_vec()),
            Self::Sha3_512(h) => self.fixed(length, || h.clone().finalize_fixed().to_vec()),
            // xxHash's canonical byte order is big-endian (XXH64_canonicalFromHash,
            // XXH128_canonicalFromHash); Python's `xxhash` returns the same bytes.
            Self::Xxh3_64(h) => self.fixed(length, || h.digest().to_be_bytes().to_vec()),
            Self::Xxh3_128(h) => self.fixed(length, || h.digest128().to_be_bytes().to_vec()),
            Self::Xxh64(h) => self.fixed(length, || h.digest().to_be_bytes().to_vec()),
        }
    }

    /// Natural digest length in bytes: 0 for SHAKE, as Python reports it.
    pub fn digest_size(&self) -> u32 {
        match self {
            Self::Blake3(_) => BLAKE3_DEFAULT_LEN,
            Self::Sha224(_) | Self::Sha3_224(_) => 28,
            Self::Sha256(_) | Self::Sha3_256(_) => 32,
            Self::Sha384(_) | Self::Sha3_384(_) => 48,
            Self::Sha512(_) | Self::Sha3_512(_) => 64,
            Self::Shake128(_) | Self::Shake256(_) => 0,
            Self::Xxh3_64(_) | Self::Xxh64(_) => 8,
            Self::Xxh3_128(_) => 16,
        }
    }

    /// Block size in bytes as Python's `block_size` reports it: the compression
    /// block for BLAKE3 and SHA-2, the sponge rate for SHA-3/SHAKE, and the
    /// values Python's `xxhash` package reports (32 for xxh64 and xxh3_64, 64
    /// for xxh3_128) so that a shim can pass them through unchanged.
    pub fn block_size(&self) -> u32 {
        match self {
            Self::Blake3(_) => blake3::BLOCK_LEN as u32,
            Self::Sha224(_) | Self::Sha256(_) => 64,
            Self::Sha384(_) | Self::Sha512(_) => 128,
            Self::Sha3_224(_) => 144,
            Self::Sha3_256(_) | Self::Shake256(_) => 136,
            Self::Sha3_384(_) => 104,
            Self::Sha3_512(_) => 72,
            Self::Shake128(_) => 168,
            Self::Xxh3_64(_) | Self::Xxh64(_) => 32,
            Self::Xxh3_128(_) => 64,
        }
    }

    fn required_length(&self, length: Option<u32>) -> Result<u32, Error> {
        length.ok_or_else(|| invalid(format!("{} needs a digest length", self.name())))
    }

    fn xof_output(&self, length: u32) -> Result<Vec<u8>, Error> {
        if length > MAX_XOF_LEN {
            return Err(invalid(format!(
                "{}: length is too large ({length} bytes; the limit is {MAX_XOF_LEN})",
                self.name()
            )));
        }
        // u32 -> usize cannot fail on the 32- and 64-bit targets this builds for;
        // the checked form keeps that an error rather than a truncation.
        let length = usize::try_from(length).map_err(|_| invalid("length is too large"))?;
        alloc_output(length)
    }

    /// Output of a fixed-size algorithm; a requested `length` must match it.
    fn fixed(
        &self,
        length: Option<u32>,
        finish: impl FnOnce() -> Vec<u8>,
    ) -> Result<Vec<u8>, Error> {
        match length {
            Some(n) if n != self.digest_size() => Err(invalid(format!(
                "{} has a fixed digest length of {} bytes, {n} was requested",
                self.name(),
                self.digest_size()
            ))),
            _ => Ok(finish()),
        }
    }
}

/// One-shot digest of `data`.
pub fn hash(algorithm: &Algorithm, data: &[u8], length: Option<u32>) -> Result<Vec<u8>, Error> {
    let mut state = HashState::new(algorithm)?;
    state.update(data);
    state.digest(length)
}
