//! Password-based key derivation: PBKDF2-HMAC, scrypt and Argon2id.
//!
//! `pbkdf2_hmac` and `scrypt` validate their parameters the way CPython's
//! `hashlib` does (CPython checks some itself and leaves the rest to OpenSSL;
//! both sets are reproduced here, with CPython's messages where it has its
//! own), so a Python shim can pass arguments straight through.
#![forbid(unsafe_code)]

use hmac::{Hmac, SimpleHmac};

use crate::error::{alloc_output, invalid, new as error, overflow};
use crate::{Error, ErrorKind};

/// C `INT_MAX`: CPython and OpenSSL pass lengths and counts as `int`.
const INT_MAX: i64 = i32::MAX as i64;

/// A PRF hash for PBKDF2-HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pbkdf2Hash {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
    Blake2b512,
    Blake2s256,
}

impl Pbkdf2Hash {
    /// Resolves a `hashlib` hash name. CPython looks the name up in its own
    /// table first (`sha256`, `sha3_256`, `blake2b`, ...) and then asks
    /// OpenSSL, which also knows spellings like `SHA256`, `SHA-256`,
    /// `SHA2-256` or `SHA3-256` case-insensitively; both are accepted here.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "md5" => Self::Md5,
            "sha1" | "sha-1" => Self::Sha1,
            "sha224" | "sha-224" | "sha2-224" => Self::Sha224,
            "sha256" | "sha-256" | "sha2-256" => Self::Sha256,
            "sha384" | "sha-384" | "sha2-384" => Self::Sha384,
            "sha512" | "sha-512" | "sha2-512" => Self::Sha512,
            "sha512_224" | "sha512-224" | "sha-512/224" | "sha2-512/224" => Self::Sha512_224,
            "sha512_256" | "sha512-256" | "sha-512/256" | "sha2-512/256" => Self::Sha512_256,
            "sha3_224" | "sha3-224" => Self::Sha3_224,
            "sha3_256" | "sha3-256" => Self::Sha3_256,
            "sha3_384" | "sha3-384" => Self::Sha3_384,
            "sha3_512" | "sha3-512" => Self::Sha3_512,
            "blake2b" | "blake2b512" => Self::Blake2b512,
            "blake2s" | "blake2s256" => Self::Blake2s256,
            _ => return None,
        })
    }

    /// Output size of the hash in bytes: PBKDF2's default `dklen`.
    pub fn digest_size(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha224 | Self::Sha512_224 | Self::Sha3_224 => 28,
            Self::Sha256 | Self::Sha512_256 | Self::Sha3_256 | Self::Blake2s256 => 32,
            Self::Sha384 | Self::Sha3_384 => 48,
            Self::Sha512 | Self::Sha3_512 | Self::Blake2b512 => 64,
        }
    }

    /// Fills `out` with PBKDF2-HMAC-`self`.
    ///
    /// `Hmac<D>` (which precomputes the padded key blocks) needs a hash with
    /// the "eager" block API; SHA-3 and BLAKE2 do not have it and go through
    /// `SimpleHmac<D>`. Both compute standard HMAC.
    fn derive(
        self,
        password: &[u8],
        salt: &[u8],
        rounds: u32,
        out: &mut [u8],
    ) -> Result<(), Error> {
        use pbkdf2::pbkdf2 as run;
        match self {
            Self::Md5 => run::<Hmac<md5::Md5>>(password, salt, rounds, out),
            Self::Sha1 => run::<Hmac<sha1::Sha1>>(password, salt, rounds, out),
            Self::Sha224 => run::<Hmac<sha2::Sha224>>(password, salt, rounds, out),
            Self::Sha256 => run::<Hmac<sha2::Sha256>>(password, salt, rounds, out),
            Self::Sha384 => run::<Hmac<sha2::Sha384>>(password, salt, rounds, out),
            Self::Sha512 => run::<Hmac<sha2::Sha512>>(password, salt, rounds, out),
            Self::Sha512_224 => run::<Hmac<sha2::Sha512_224>>(password, salt, rounds, out),
            Self::Sha512_256 => run::<Hmac<sha2::Sha512_256>>(password, salt, rounds, out),
            Self::Sha3_224 => run::<SimpleHmac<sha3::Sha3_224>>(password, salt, rounds, out),
            Self::Sha3_256 => run::<SimpleHmac<sha3::Sha3_256>>(password, salt, rounds, out),
            Self::Sha3_384 => run::<SimpleHmac<sha3::Sha3_384>>(password, salt, rounds, out),
            Self::Sha3_512 => run::<SimpleHmac<sha3::Sha3_512>>(password, salt, rounds, out),
            Self::Blake2b512 => run::<SimpleHmac<blake2::Blake2b512>>(password, salt, rounds, out),
            Self::Blake2s256 => run::<SimpleHmac<blake2::Blake2s256>>(password, salt, rounds, out),
        }
        // HMAC takes keys of any length, so this error cannot happen; it is
        // still reported rather than unwrapped.
        .map_err(|_| invalid("PBKDF2: the password was rejected as an HMAC key"))
    }
}

/// `hashlib.pbkdf2_hmac(hash_name, password, salt, iterations, dklen)`.
pub fn pbkdf2_hmac(
    hash_name: &str,
    password: &[u8],
    salt: &[u8],
    iterations: i64,
    dklen: Option<i64>,
) -> Result<Vec<u8>, Error> {
    // Same order of checks and same messages as CPython's `pbkdf2_hmac_impl`.
    let hash = Pbkdf2Hash::from_name(hash_name).ok_or_else(|| {
        error(
            ErrorKind::UnsupportedAlgorithm,
            format!("unsupported hash type {hash_name}"),
        )
    })?;
    check_input_lengths(password, salt)?;
    if iterations < 1 {
        return Err(invalid("iteration value must be greater than 0."));
    }
    let rounds = u32::try_from(iterations)
        .ok()
        .filter(|&n| i64::from(n) <= INT_MAX)
        .ok_or_else(|| overflow("iteration value is too great."))?;
    let dklen = dklen.unwrap_or(hash.digest_size() as i64);
    if dklen < 1 {
        return Err(invalid("key length must be greater than 0."));
    }
    if dklen > INT_MAX {
        return Err(overflow("key length is too great."));
    }
    let mut out = alloc_output(to_usize(dklen)?)?;
    hash.derive(password, salt, rounds, &mut out)?;
    Ok(out)
}

/// `hashlib.scrypt(password, salt=, n=, r=, p=, maxmem=, dklen=)`.
///
/// `maxmem == 0` means OpenSSL's default limit of 32 MiB.
pub fn scrypt(
    password: &[u8],
    salt: &[u8],
    n: u64,
    r: u64,
    p: u64,
    maxmem: i64,
    dklen: i64,
) -> Result<Vec<u8>, Error> {
    // CPython's own checks (`_hashlib_scrypt_impl`).
    check_input_lengths(password, salt)?;
    if n < 2 || !n.is_power_of_two() {
        return Err(invalid("n must be a power of 2."));
    }
    if !(0..=INT_MAX).contains(&maxmem) {
        return Err(invalid(format!(
            "maxmem must be positive and smaller than {INT_MAX}"
        )));
    }
    if !(1..=INT_MAX).contains(&dklen) {
        return Err(invalid(format!(
            "dklen must be greater than 0 and smaller than {INT_MAX}"
        )));
    }
    let maxmem = if maxmem == 0 {
        SCRYPT_DEFAULT_MAXMEM
    } else {
        maxmem.unsigned_abs()
    };
    let memory = scrypt_memory(n, r, p, maxmem)?;

    // After `scrypt_memory`, r * p < 2^30, so both fit in u32; n is a power of
    // two, so its trailing zeros are log2(n) (< 64, fits in u8).
    let (r32, p32) = match (u32::try_from(r), u32::try_from(p)) {
        (Ok(r), Ok(p)) => (r, p),
        _ => return Err(invalid(SCRYPT_INVALID)),
    };
    let log_n = n.trailing_zeros() as u8;
    let params = scrypt::Params::new(log_n, r32, p32)
        .map_err(|_| invalid(format!("{SCRYPT_INVALID} (n={n}, r={r}, p={p})")))?;

    // The scrypt crate allocates its work area with `vec!`, which aborts the
    // instance when memory runs out. Reserving the same amount first (and
    // freeing it) makes the common failure an error instead: the allocator
    // keeps the grown memory and hands it back to the crate's allocations.
    let probe_len = usize::try_from(memory).map_err(|_| scrypt_oom(memory))?;
    let mut probe: Vec<u8> = Vec::new();
    probe
        .try_reserve_exact(probe_len)
        .map_err(|_| scrypt_oom(memory))?;
    drop(probe);

    let mut out = alloc_output(to_usize(dklen)?)?;
    scrypt::scrypt(password, salt, &params, &mut out)
        .map_err(|_| invalid("dklen is out of range for scrypt"))?;
    Ok(out)
}

/// OpenSSL's `SCRYPT_MAX_MEM`, used when `maxmem` is 0.
const SCRYPT_DEFAULT_MAXMEM: u64 = 32 * 1024 * 1024;

/// CPython's message for parameters OpenSSL rejects.
const SCRYPT_INVALID: &str = "Invalid parameter combination for n, r, p, maxmem.";

/// OpenSSL's scrypt parameter checks (`kdf_scrypt.c`, which CPython relies on),
/// returning the bytes the work area needs (`B` plus `V`, `X` and `T`).
///
/// This includes OpenSSL's `N < 2^(16 r)` rule. RustCrypto's scrypt crate
/// dropped that rule as stemming from an erratum in RFC 7914, but CPython
/// enforces it, and matching CPython is the point of this function.
pub fn scrypt_memory(n: u64, r: u64, p: u64, maxmem: u64) -> Result<u64, Error> {
    /// `SCRYPT_PR_MAX`: p * r must stay below 2^30.
    const PR_MAX: u64 = (1 << 30) - 1;
    let limit = |what: &str| {
        invalid(format!(
            "{SCRYPT_INVALID} (memory limit exceeded: {what}; n={n}, r={r}, p={p}, maxmem={maxmem})"
        ))
    };

    if r == 0 || p == 0 || n < 2 || !n.is_power_of_two() {
        return Err(invalid(SCRYPT_INVALID));
    }
    if p > PR_MAX / r {
        return Err(limit("p * r is too large"));
    }
    // 16 * r <= 63; written as r <= 3 so that 16 * r cannot overflow.
    if r <= 3 && n >= 1 << (16 * r) {
        return Err(limit("n must be smaller than 2^(16 r)"));
    }
    // p * r < 2^30, so this cannot overflow.
    let b_len = p * 128 * r;
    if b_len > INT_MAX.unsigned_abs() {
        return Err(limit("p * 128 * r does not fit in an int"));
    }
    let per_r = u64::MAX / (32 * 4);
    if n + 2 > per_r / r {
        return Err(limit("32 * r * (n + 2) * 4 overflows"));
    }
    let v_len = 32 * r * (n + 2) * 4;
    let total = b_len
        .checked_add(v_len)
        .ok_or_else(|| limit("total size overflows"))?;
    if total > maxmem {
        return Err(limit(&format!("needs {total} bytes")));
    }
    Ok(total)
}

fn scrypt_oom(bytes: u64) -> Error {
    error(
        ErrorKind::OutOfMemory,
        format!("cannot allocate the {bytes} byte scrypt work area"),
    )
}

/// Inputs of [`argon2id`].
#[derive(Clone, Copy, Debug)]
pub struct Argon2idParams<'a> {
    pub password: &'a [u8],
    pub salt: &'a [u8],
    pub time_cost: u32,
    pub memory_cost_kib: u32,
    pub parallelism: u32,
    pub hash_len: u32,
    pub secret: Option<&'a [u8]>,
    pub associated_data: Option<&'a [u8]>,
}

/// Argon2id, version 0x13 (RFC 9106), raw hash output.
///
/// Lanes are computed one after the other: a component instance has a single
/// thread, so `parallelism` changes the result but not the speed.
pub fn argon2id(args: &Argon2idParams<'_>) -> Result<Vec<u8>, Error> {
    use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};

    let mut builder = ParamsBuilder::new();
    builder
        .t_cost(args.time_cost)
        .m_cost(args.memory_cost_kib)
        .p_cost(args.parallelism)
        .output_len(to_usize(i64::from(args.hash_len))?);
    if let Some(data) = args.associated_data {
        builder.data(AssociatedData::new(data).map_err(argon2_error)?);
    }
    let params = builder.build().map_err(argon2_error)?;
    let context = match args.secret {
        Some(secret) => {
            Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, params)
                .map_err(argon2_error)?
        }
        None => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
    };
    let mut out = alloc_output(to_usize(i64::from(args.hash_len))?)?;
    // The crate allocates its memory blocks fallibly and reports
    // `Error::OutOfMemory`, so a too-large memory cost comes back as an error.
    context
        .hash_password_into(args.password, args.salt, &mut out)
        .map_err(argon2_error)?;
    Ok(out)
}

/// Argon2 errors with the limits spelled out (the crate's own messages do not
/// say what the limit is).
fn argon2_error(e: argon2::Error) -> Error {
    use argon2::{Error as E, Params};
    let message = match e {
        E::OutOfMemory => {
            return error(
                ErrorKind::OutOfMemory,
                "argon2id: cannot allocate the memory blocks (memory-cost-kib is too large)",
            );
        }
        E::MemoryTooLittle => format!(
            "argon2id: memory-cost-kib must be at least {} and at least 8 * parallelism",
            Params::MIN_M_COST
        ),
        E::MemoryTooMuch => "argon2id: memory-cost-kib is too large".to_owned(),
        E::TimeTooSmall => format!(
            "argon2id: time-cost must be at least {}",
            Params::MIN_T_COST
        ),
        E::ThreadsTooFew => format!(
            "argon2id: parallelism must be at least {}",
            Params::MIN_P_COST
        ),
        E::ThreadsTooMany => format!(
            "argon2id: parallelism must be at most {}",
            Params::MAX_P_COST
        ),
        E::OutputTooShort => format!(
            "argon2id: hash-len must be at least {}",
            Params::MIN_OUTPUT_LEN
        ),
        E::OutputTooLong => "argon2id: hash-len is too large".to_owned(),
        E::SaltTooShort => format!(
            "argon2id: salt must be at least {} bytes",
            argon2::MIN_SALT_LEN
        ),
        E::AdTooLong => format!(
            "argon2id: associated-data longer than {} bytes is not supported",
            argon2::AssociatedData::MAX_LEN
        ),
        other => format!("argon2id: {other}"),
    };
    invalid(message)
}

/// CPython refuses passwords and salts longer than `INT_MAX` (OpenSSL takes
/// `int` lengths) with `OverflowError`.
fn check_input_lengths(password: &[u8], salt: &[u8]) -> Result<(), Error> {
    if password.len() as u64 > INT_MAX.unsigned_abs() {
        return Err(overflow("password is too long."));
    }
    if salt.len() as u64 > INT_MAX.unsigned_abs() {
        return Err(overflow("salt is too long."));
    }
    Ok(())
}

/// A validated non-negative length as `usize`.
fn to_usize(n: i64) -> Result<usize, Error> {
    usize::try_from(n).map_err(|_| overflow(format!("{n} does not fit in this platform's usize")))
}
