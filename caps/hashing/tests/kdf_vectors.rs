//! Published vectors and CPython parity for PBKDF2-HMAC, scrypt and Argon2id.

use pylon_cap_hashing::ErrorKind;
use pylon_cap_hashing::kdf::{Argon2idParams, argon2id, pbkdf2_hmac, scrypt, scrypt_memory};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const INT_MAX: i64 = i32::MAX as i64;

fn pbkdf2_hex(
    name: &str,
    password: &[u8],
    salt: &[u8],
    iterations: i64,
    dklen: Option<i64>,
) -> String {
    hex(&pbkdf2_hmac(name, password, salt, iterations, dklen).expect("valid parameters"))
}

/// RFC 6070 PBKDF2-HMAC-SHA1 test vectors.
#[test]
fn pbkdf2_sha1_rfc6070() {
    assert_eq!(
        pbkdf2_hex("sha1", b"password", b"salt", 1, Some(20)),
        "0c60c80f961f0e71f3a9b524af6012062fe037a6"
    );
    assert_eq!(
        pbkdf2_hex("sha1", b"password", b"salt", 2, Some(20)),
        "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"
    );
    assert_eq!(
        pbkdf2_hex("sha1", b"password", b"salt", 4096, Some(20)),
        "4b007901b765489abead49d926f721d065a429c1"
    );
    assert_eq!(
        pbkdf2_hex(
            "sha1",
            b"passwordPASSWORDpassword",
            b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
            4096,
            Some(25)
        ),
        "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"
    );
    assert_eq!(
        pbkdf2_hex("sha1", b"pass\0word", b"sa\0lt", 4096, Some(16)),
        "56fa6aa75548099dcc37d7f03425e0c3"
    );
}

/// RFC 6070's 16,777,216-iteration vector: a few seconds optimized, far
/// longer in a debug build, so it only runs in `cargo test --release`.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "slow without optimizations; run with --release"
)]
fn pbkdf2_sha1_rfc6070_16m_iterations() {
    assert_eq!(
        pbkdf2_hex("sha1", b"password", b"salt", 16_777_216, Some(20)),
        "eefe3d61cd4da4e4e9945b3d6ba2158c2634e984"
    );
}

/// Values from CPython 3.11 (OpenSSL 3.0) on the host:
/// `hashlib.pbkdf2_hmac(name, b"password", b"salt", 1000).hex()`.
#[test]
fn pbkdf2_cpython_parity() {
    let cases = [
        (
            "sha256",
            "632c2812e46d4604102ba7618e9d6d7d2f8128f6266b4a03264d2a0460b7dcb3",
        ),
        (
            "sha512",
            "afe6c5530785b6cc6b1c6453384731bd5ee432ee549fd42fb6695779ad8a1c5b\
             f59de69c48f774efc4007d5298f9033c0241d5ab69305e7b64eceeb8d834cfec",
        ),
        (
            "sha3_256",
            "ee56a9b7311bb081d0bbfa8dc3c2798f30abbbec6344426829d956ed06eaecab",
        ),
        ("md5", "8d189946a32d883622a16ae18af0632f"),
        ("sha1", "6e88be8bad7eae9d9e10aa061224034fed48d03f"),
        (
            "sha224",
            "d3bcf320fd918908eafcaa460faf40e201f6508d4e6f3d9c1c0abd30",
        ),
        (
            "sha384",
            "3bd37e2236941d4a77b1b5b714c6f913fabb6b0841a6d7d8656b99d611e900fe\
             06edb93b5b809efaa9678b635ce513e0",
        ),
        (
            "sha512_224",
            "2f7dd7172b0324e8234fb87a2a789b8ca20f613fb043be228e1edbfc",
        ),
        (
            "sha512_256",
            "f7e4fb1d98c78b615f585f974af8cd97651a244f4c5004189d136fed65652fa0",
        ),
        (
            "sha3_224",
            "2c63ae34f3c11883e945e556cfe40c4d73541622785040f2c4296fa5",
        ),
        (
            "sha3_384",
            "67cf75e77d56c7366a1d5400b36aa165cb907043e6c6fee119540dc7289934402d8a03ec8a1fb01d8199232e40d55aef",
        ),
        (
            "sha3_512",
            "e697001cf40fe4623eb67df2ddab791a499451234957133097deffce766fc983\
             9e4642de2a1cfea8307d98bde6995bab8cf70453dc8eab92fcba0a02a2ae026e",
        ),
        (
            "blake2b",
            "bea9c4f32ea86aa9965157f6eaa2c5e8d8e0362ea12e3af854d1d5db62b276a9\
             53a99e467a931a307ca6c8561ba58f833455dcdcf8352a89948088c3ef621681",
        ),
        (
            "blake2s",
            "d391c613d78eb54e4119a2fa87118db72288ab4127183f535bfa534c0cc82541",
        ),
        // OpenSSL spellings CPython also accepts.
        (
            "SHA256",
            "632c2812e46d4604102ba7618e9d6d7d2f8128f6266b4a03264d2a0460b7dcb3",
        ),
        (
            "sha-256",
            "632c2812e46d4604102ba7618e9d6d7d2f8128f6266b4a03264d2a0460b7dcb3",
        ),
        (
            "SHA3-256",
            "ee56a9b7311bb081d0bbfa8dc3c2798f30abbbec6344426829d956ed06eaecab",
        ),
    ];
    for (name, expected) in cases {
        assert_eq!(
            pbkdf2_hex(name, b"password", b"salt", 1000, None),
            expected,
            "{name}"
        );
    }
    // hashlib.pbkdf2_hmac("sha256", b"correct horse battery staple",
    //                     b"NaCl-2024", 600, 100).hex()
    // (dklen not a multiple of the digest size: the last block is truncated)
    assert_eq!(
        pbkdf2_hex(
            "sha256",
            b"correct horse battery staple",
            b"NaCl-2024",
            600,
            Some(100)
        ),
        "1b00efeec092607e4a896f26cd2191e2dbd0c4a103055a2d99e409d965f086d2\
         84691b770cfa26a7ae5934f09161787d14365d6bbf72dd37749cb5dde74e7b28\
         ef6e630920c6393b74440a9b094ef268cd3ccb3709477b411bd0cf8a40296a26\
         cee91bd8"
    );
}

/// Errors and messages as CPython raises them.
#[test]
fn pbkdf2_parameter_errors() {
    let check =
        |name: &str, iterations: i64, dklen: Option<i64>, kind: ErrorKind, message: &str| {
            let err = pbkdf2_hmac(name, b"p", b"s", iterations, dklen).expect_err("invalid");
            assert_eq!(err.kind, kind, "{name} {iterations} {dklen:?}");
            assert_eq!(err.message, message, "{name} {iterations} {dklen:?}");
        };
    check(
        "sha999",
        1,
        None,
        ErrorKind::UnsupportedAlgorithm,
        "unsupported hash type sha999",
    );
    check(
        "shake_128",
        1,
        None,
        ErrorKind::UnsupportedAlgorithm,
        "unsupported hash type shake_128",
    );
    check(
        "sha256",
        0,
        None,
        ErrorKind::InvalidParameter,
        "iteration value must be greater than 0.",
    );
    check(
        "sha256",
        -1,
        None,
        ErrorKind::InvalidParameter,
        "iteration value must be greater than 0.",
    );
    check(
        "sha256",
        INT_MAX + 1,
        None,
        ErrorKind::Overflow,
        "iteration value is too great.",
    );
    check(
        "sha256",
        i64::MAX,
        None,
        ErrorKind::Overflow,
        "iteration value is too great.",
    );
    check(
        "sha256",
        1,
        Some(0),
        ErrorKind::InvalidParameter,
        "key length must be greater than 0.",
    );
    check(
        "sha256",
        1,
        Some(-5),
        ErrorKind::InvalidParameter,
        "key length must be greater than 0.",
    );
    check(
        "sha256",
        1,
        Some(INT_MAX + 1),
        ErrorKind::Overflow,
        "key length is too great.",
    );
}

fn scrypt_hex(
    password: &[u8],
    salt: &[u8],
    n: u64,
    r: u64,
    p: u64,
    maxmem: i64,
    dklen: i64,
) -> String {
    hex(&scrypt(password, salt, n, r, p, maxmem, dklen).expect("valid parameters"))
}

/// RFC 7914 section 12 test vectors.
#[test]
fn scrypt_rfc7914() {
    assert_eq!(
        scrypt_hex(b"", b"", 16, 1, 1, 0, 64),
        "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442\
         fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
    );
    assert_eq!(
        scrypt_hex(b"password", b"NaCl", 1024, 8, 16, 0, 64),
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162\
         2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
    );
    // Needs 16 MiB + 1 KiB: within the default 32 MiB maxmem.
    assert_eq!(
        scrypt_hex(b"pleaseletmein", b"SodiumChloride", 16384, 8, 1, 0, 64),
        "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2\
         d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"
    );
}

/// RFC 7914's N = 2^20 vector needs 1 GiB and a few seconds optimized; far
/// slower in a debug build, so it only runs in `cargo test --release`.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "1 GiB and slow without optimizations; run with --release"
)]
fn scrypt_rfc7914_n_2_20() {
    assert_eq!(
        scrypt_hex(
            b"pleaseletmein",
            b"SodiumChloride",
            1_048_576,
            8,
            1,
            INT_MAX,
            64
        ),
        "2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa47\
         8e56fd8f4ba5d09ffa1c6d927c40f4c337304049e8a952fbcbf45c6fa77a41a4"
    );
}

/// Values from CPython 3.11 (OpenSSL 3.0) on the host, e.g.
/// `hashlib.scrypt(b"correct horse battery staple", salt=b"NaCl-2024",
/// n=1024, r=8, p=2, dklen=40).hex()`.
#[test]
fn scrypt_cpython_parity() {
    assert_eq!(
        scrypt_hex(
            b"correct horse battery staple",
            b"NaCl-2024",
            1024,
            8,
            2,
            0,
            40
        ),
        "100c22e122123b13303e2b12c48a86fa7c961f6a9bbd772e65662ed7fcee04c5f4bf77612bef7eda"
    );
    // hashlib.scrypt(b"pw", salt=b"s", n=2**15, r=3, p=1, dklen=16)
    assert_eq!(
        scrypt_hex(b"pw", b"s", 1 << 15, 3, 1, 0, 16),
        "d380fe0d0041738025846dfea9e1b7be"
    );
    // hashlib.scrypt(b"pw", salt=b"salt", n=16, r=1, p=1) (default dklen=64)
    assert_eq!(
        scrypt_hex(b"pw", b"salt", 16, 1, 1, 0, 64),
        "086be1ce38ba574b6133f2c1cfafecb7f2406cc739054fb368b2cb0f556daf00\
         279f0990c0bee16fdc6f2f0a004c83d38eecb2833efc8a5ee4bdf82a004a9adc"
    );
}

/// Every case CPython 3.11 + OpenSSL 3.0 rejects with `ValueError`, checked
/// on the host with `hashlib.scrypt(b"p", salt=b"s", n=16, r=1, p=1, **kw)`.
#[test]
fn scrypt_parameter_errors() {
    let rejected = |n: u64, r: u64, p: u64, maxmem: i64, dklen: i64| {
        let err = scrypt(b"p", b"s", n, r, p, maxmem, dklen).expect_err("invalid");
        assert_eq!(
            err.kind,
            ErrorKind::InvalidParameter,
            "n={n} r={r} p={p} maxmem={maxmem}"
        );
        err.message
    };
    assert_eq!(rejected(1, 1, 1, 0, 64), "n must be a power of 2.");
    assert_eq!(rejected(0, 1, 1, 0, 64), "n must be a power of 2.");
    assert_eq!(rejected(3, 1, 1, 0, 64), "n must be a power of 2.");
    assert_eq!(
        rejected(16, 1, 1, -1, 64),
        "maxmem must be positive and smaller than 2147483647"
    );
    assert_eq!(
        rejected(16, 1, 1, INT_MAX + 1, 64),
        "maxmem must be positive and smaller than 2147483647"
    );
    assert_eq!(
        rejected(16, 1, 1, 0, 0),
        "dklen must be greater than 0 and smaller than 2147483647"
    );
    assert_eq!(
        rejected(16, 1, 1, 0, INT_MAX + 1),
        "dklen must be greater than 0 and smaller than 2147483647"
    );
    let invalid = "Invalid parameter combination for n, r, p, maxmem.";
    assert_eq!(rejected(16, 0, 1, 0, 64), invalid);
    assert_eq!(rejected(16, 1, 0, 0, 64), invalid);
    // OpenSSL's memory checks: message starts the same, then says why.
    for (n, r, p, maxmem) in [
        (1 << 20, 8, 1, 0),             // 1 GiB > default 32 MiB
        (1 << 15, 8, 1, 0),             // 32 MiB + 1 KiB > 32 MiB
        (16, 1 << 30, 1, 0),            // p * r too large
        (16, 1, 1 << 30, 0),            // p * r too large
        (1 << 16, 1, 1, 0),             // n >= 2^(16 r)
        (1 << 17, 1, 1, 0),             // n >= 2^(16 r)
        (16, 1 << 24, 1, INT_MAX),      // B does not fit in an int
        (2, (1 << 24) - 1, 1, INT_MAX), // needs more than maxmem
        (1 << 62, 8, 1, INT_MAX),       // V overflows
    ] {
        let message = rejected(n, r, p, maxmem, 64);
        assert!(message.starts_with(invalid), "{message}");
    }
    // The boundaries that are accepted.
    assert!(scrypt(b"p", b"s", 16, 1, 1, INT_MAX, 64).is_ok());
    assert!(scrypt(b"p", b"s", 1 << 15, 1, 1, 0, 1).is_ok());
    // OpenSSL counts V, X and T as 128 r (N + 2) bytes, plus B = 128 r p.
    assert_eq!(
        scrypt_memory(16384, 8, 1, u64::MAX).expect("ok"),
        128 * 8 * (16384 + 2) + 128 * 8
    );
}

/// RFC 9106 section 5.3, the Argon2id test vector.
#[test]
fn argon2id_rfc9106() {
    let out = argon2id(&Argon2idParams {
        password: &[0x01; 32],
        salt: &[0x02; 16],
        time_cost: 3,
        memory_cost_kib: 32,
        parallelism: 4,
        hash_len: 32,
        secret: Some(&[0x03; 8]),
        associated_data: Some(&[0x04; 12]),
    })
    .expect("valid parameters");
    assert_eq!(
        hex(&out),
        "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    );
}

/// Values from the reference C implementation through Python's argon2-cffi
/// 25.1.0: `argon2.low_level.hash_secret_raw(b"password", b"somesalt",
/// time_cost=2, memory_cost=256, parallelism=2, hash_len=32, type=Type.ID)`
/// and the smallest allowed parameters.
#[test]
fn argon2id_reference_parity() {
    let out = argon2id(&Argon2idParams {
        password: b"password",
        salt: b"somesalt",
        time_cost: 2,
        memory_cost_kib: 256,
        parallelism: 2,
        hash_len: 32,
        secret: None,
        associated_data: None,
    })
    .expect("valid parameters");
    assert_eq!(
        hex(&out),
        "6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037"
    );
    let out = argon2id(&Argon2idParams {
        password: b"",
        salt: b"saltsalt",
        time_cost: 1,
        memory_cost_kib: 8,
        parallelism: 1,
        hash_len: 4,
        secret: None,
        associated_data: None,
    })
    .expect("valid parameters");
    assert_eq!(hex(&out), "477bbdbc");
}

#[test]
fn argon2id_parameter_errors() {
    let base = Argon2idParams {
        password: b"password",
        salt: b"somesalt",
        time_cost: 1,
        memory_cost_kib: 64,
        parallelism: 1,
        hash_len: 32,
        secret: None,
        associated_data: None,
    };
    let rejected = |params: Argon2idParams<'_>, needle: &str| {
        let err = argon2id(&params).expect_err("invalid");
        assert_eq!(err.kind, ErrorKind::InvalidParameter, "{}", err.message);
        assert!(
            err.message.contains(needle),
            "{} does not mention {needle}",
            err.message
        );
    };
    rejected(
        Argon2idParams {
            salt: b"short",
            ..base
        },
        "salt",
    );
    rejected(
        Argon2idParams {
            time_cost: 0,
            ..base
        },
        "time-cost",
    );
    rejected(
        Argon2idParams {
            parallelism: 0,
            ..base
        },
        "parallelism",
    );
    rejected(
        Argon2idParams {
            memory_cost_kib: 7,
            ..base
        },
        "memory-cost-kib",
    );
    rejected(
        Argon2idParams {
            memory_cost_kib: 15,
            parallelism: 2,
            ..base
        },
        "memory-cost-kib",
    );
    rejected(
        Argon2idParams {
            hash_len: 3,
            ..base
        },
        "hash-len",
    );
    rejected(
        Argon2idParams {
            associated_data: Some(&[0; 33]),
            ..base
        },
        "associated-data",
    );
    assert!(argon2id(&base).is_ok());
}
