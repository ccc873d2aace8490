//! The hashing cap as a component (wasm32-wasip1 module + preview1 reactor
//! adapter) in wasmtime: vectors through the WIT boundary, the streaming
//! `hasher` resource, `copy`, and errors coming back as `result`s.

use pylon_cap_tests::{harness, Host};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

wasmtime::component::bindgen!({
    path: "../../caps/hashing/wit",
    world: "hashing-cap",
});

use exports::pylon::hashing::hashing::{Algorithm, Error, ErrorKind};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh instance of the cap and its store.
fn instance() -> (Store<Host>, HashingCap) {
    let mut h = harness("hashing");
    let cap = HashingCap::instantiate(&mut h.store, &h.component, &h.linker)
        .expect("instantiate the hashing cap");
    (h.store, cap)
}

/// `hash` through the component; the outer `Result` is a trap, the inner one
/// the cap's own error.
fn hash(
    store: &mut Store<Host>,
    cap: &HashingCap,
    algorithm: Algorithm,
    data: &[u8],
    length: Option<u32>,
) -> Result<Vec<u8>, Error> {
    cap.pylon_hashing_hashing()
        .call_hash(store, &algorithm, data, length)
        .expect("hash does not trap")
}

#[test]
fn one_shot_vectors() {
    let (mut store, cap) = instance();
    let cases = [
        // FIPS 180-2 / FIPS 202 "abc".
        (
            Algorithm::Sha256,
            None,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            Algorithm::Sha3256,
            None,
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
        ),
        (
            Algorithm::Sha512,
            None,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
        (
            Algorithm::Shake128,
            Some(32),
            "5881092dd818bf5cf8a3ddb793fbcba74097d5c526a6d35f97b83351940f2cc8",
        ),
        // BLAKE3 of "abc" (the `blake3` Python package gives the same).
        (
            Algorithm::Blake3,
            None,
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
        ),
        // xxHash reference values (Python `xxhash` 4.1.0), canonical big-endian.
        (Algorithm::Xxh64(0), None, "44bc2cf5ad770999"),
        (Algorithm::Xxh364(0), None, "78af5f94892f3950"),
        (
            Algorithm::Xxh3128(0),
            None,
            "06b05ab6733a618578af5f94892f3950",
        ),
    ];
    for (algorithm, length, expected) in cases {
        let what = format!("{algorithm:?}");
        let out = hash(&mut store, &cap, algorithm, b"abc", length).expect("valid");
        assert_eq!(hex(&out), expected, "{what}");
    }

    // BLAKE3 official test vector, input_len 0, keyed mode, 32 bytes.
    let key = b"whats the Elvish word for friend".to_vec();
    let out = hash(&mut store, &cap, Algorithm::Blake3Keyed(key), b"", None).expect("valid");
    assert_eq!(
        hex(&out),
        "92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26"
    );
}

#[test]
fn streaming_hasher_and_copy() {
    let (mut store, cap) = instance();
    let hasher = cap.pylon_hashing_hashing().hasher();

    let h: ResourceAny = hasher
        .call_constructor(&mut store, &Algorithm::Sha256)
        .expect("constructor does not trap")
        .expect("sha256 needs no parameters");
    assert_eq!(hasher.call_digest_size(&mut store, h).expect("no trap"), 32);
    assert_eq!(hasher.call_block_size(&mut store, h).expect("no trap"), 64);

    hasher.call_update(&mut store, h, b"ab").expect("no trap");
    let snapshot = hasher.call_copy(&mut store, h).expect("no trap");
    hasher.call_update(&mut store, h, b"c").expect("no trap");

    // digest() does not consume: twice gives the same, like hexdigest() twice.
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    for _ in 0..2 {
        let d = hasher
            .call_digest(&mut store, h, None)
            .expect("no trap")
            .expect("digest");
        assert_eq!(hex(&d), abc);
    }

    // The copy holds "ab" and evolves on its own.
    hasher
        .call_update(&mut store, snapshot, b"c")
        .expect("no trap");
    let d = hasher
        .call_digest(&mut store, snapshot, Some(32))
        .expect("no trap")
        .expect("digest");
    assert_eq!(hex(&d), abc);

    // Updating after a digest continues the stream.
    hasher
        .call_update(
            &mut store,
            h,
            b"dbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        )
        .expect("no trap");
    let d = hasher
        .call_digest(&mut store, h, None)
        .expect("no trap")
        .expect("digest");
    assert_eq!(
        hex(&d),
        hex(&hash(
            &mut store,
            &cap,
            Algorithm::Sha256,
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            None
        )
        .expect("valid"))
    );
    assert_eq!(
        hex(&d),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );

    h.resource_drop(&mut store).expect("drop");
    snapshot.resource_drop(&mut store).expect("drop");

    // A streamed BLAKE3 derive-key over several updates, with extended output
    // (official vector: input_len 1025, derive_key, first 64 bytes).
    let context = "BLAKE3 2019-12-27 16:29:52 test vectors context".to_owned();
    let b3 = hasher
        .call_constructor(&mut store, &Algorithm::Blake3DeriveKey(context))
        .expect("no trap")
        .expect("valid");
    let input: Vec<u8> = (0..1025).map(|i| (i % 251) as u8).collect();
    for piece in input.chunks(100) {
        hasher.call_update(&mut store, b3, piece).expect("no trap");
    }
    let d = hasher
        .call_digest(&mut store, b3, Some(64))
        .expect("no trap")
        .expect("digest");
    assert_eq!(
        hex(&d),
        "effaa245f065fbf82ac186839a249707c3bddf6d3fdda22d1b95a3c970379bcb\
         5d31013a167509e9066273ab6e2123bc835b408b067d88f96addb550d96b6852"
    );
    b3.resource_drop(&mut store).expect("drop");
}

#[test]
fn kdf_vectors() {
    let (mut store, cap) = instance();
    let kdf = cap.pylon_hashing_kdf();

    // RFC 6070, PBKDF2-HMAC-SHA1, c = 4096.
    let out = kdf
        .call_pbkdf2_hmac(&mut store, "sha1", b"password", b"salt", 4096, Some(20))
        .expect("no trap")
        .expect("valid");
    assert_eq!(hex(&out), "4b007901b765489abead49d926f721d065a429c1");

    // CPython: hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000).hex()
    let out = kdf
        .call_pbkdf2_hmac(&mut store, "sha256", b"password", b"salt", 1000, None)
        .expect("no trap")
        .expect("valid");
    assert_eq!(
        hex(&out),
        "632c2812e46d4604102ba7618e9d6d7d2f8128f6266b4a03264d2a0460b7dcb3"
    );

    // RFC 7914 section 12, second vector (N = 1024, r = 8, p = 16).
    let out = kdf
        .call_scrypt(&mut store, b"password", b"NaCl", 1024, 8, 16, 0, 64)
        .expect("no trap")
        .expect("valid");
    assert_eq!(
        hex(&out),
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162\
         2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
    );

    // RFC 9106 section 5.3, Argon2id.
    let out = kdf
        .call_argon2id(
            &mut store,
            &[0x01; 32],
            &[0x02; 16],
            3,
            32,
            4,
            32,
            Some(&[0x03; 8]),
            Some(&[0x04; 12]),
        )
        .expect("no trap")
        .expect("valid");
    assert_eq!(
        hex(&out),
        "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    );
}

/// Bad input comes back as an `error` value, and the instance stays usable.
#[test]
fn errors_are_results_not_traps() {
    let (mut store, cap) = instance();
    let hashing = cap.pylon_hashing_hashing();
    let kdf = cap.pylon_hashing_kdf();

    let err = hashing
        .hasher()
        .call_constructor(&mut store, &Algorithm::Blake3Keyed(vec![0; 5]))
        .expect("no trap")
        .expect_err("a 5-byte key is refused");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);
    assert!(err.message.contains("32 bytes"), "{}", err.message);

    let err = hash(&mut store, &cap, Algorithm::Shake256, b"x", None).expect_err("no length");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);

    let err = kdf
        .call_pbkdf2_hmac(&mut store, "sha999", b"p", b"s", 1, None)
        .expect("no trap")
        .expect_err("unknown hash");
    assert_eq!(err.kind, ErrorKind::UnsupportedAlgorithm);
    assert_eq!(err.message, "unsupported hash type sha999");

    let err = kdf
        .call_pbkdf2_hmac(&mut store, "sha256", b"p", b"s", 0, None)
        .expect("no trap")
        .expect_err("zero iterations");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);
    assert_eq!(err.message, "iteration value must be greater than 0.");

    let err = kdf
        .call_scrypt(&mut store, b"p", b"s", 15, 1, 1, 0, 64)
        .expect("no trap")
        .expect_err("n not a power of two");
    assert_eq!(err.message, "n must be a power of 2.");

    // Default maxmem (32 MiB) is too small for N = 2^20, r = 8: refused
    // before any memory is touched.
    let err = kdf
        .call_scrypt(&mut store, b"p", b"s", 1 << 20, 8, 1, 0, 64)
        .expect("no trap")
        .expect_err("over maxmem");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);

    // 4 TiB of Argon2 memory cannot be had in a 32-bit address space: an
    // out-of-memory error, not an abort.
    let err = kdf
        .call_argon2id(
            &mut store,
            b"pw",
            b"saltsalt",
            1,
            u32::MAX,
            1,
            32,
            None,
            None,
        )
        .expect("no trap")
        .expect_err("too much memory");
    assert_eq!(err.kind, ErrorKind::OutOfMemory);

    // Still alive after all of that.
    let out = hash(&mut store, &cap, Algorithm::Sha256, b"abc", None).expect("valid");
    assert_eq!(
        hex(&out),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
