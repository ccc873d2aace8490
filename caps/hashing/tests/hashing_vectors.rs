//! Published test vectors for the streaming hashes, run natively.

use pylon_cap_hashing::hashers::{HashState, MAX_XOF_LEN, hash};
use pylon_cap_hashing::{Algorithm, ErrorKind};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_hex(algorithm: Algorithm, data: &[u8], length: Option<u32>) -> String {
    hex(&hash(&algorithm, data, length).expect("valid parameters"))
}

/// FIPS 180-2 / FIPS 202 example "abc" (and one two-block SHA-256 message).
#[test]
fn sha2_sha3_abc() {
    let cases = [
        (
            Algorithm::Sha224,
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
        ),
        (
            Algorithm::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            Algorithm::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            Algorithm::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
        (
            Algorithm::Sha3224,
            "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf",
        ),
        (
            Algorithm::Sha3256,
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
        ),
        (
            Algorithm::Sha3384,
            "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b2\
             98d88cea927ac7f539f1edf228376d25",
        ),
        (
            Algorithm::Sha3512,
            "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e\
             10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
        ),
    ];
    for (algorithm, expected) in cases {
        assert_eq!(
            hash_hex(algorithm.clone(), b"abc", None),
            expected,
            "{algorithm:?}"
        );
    }
    assert_eq!(
        hash_hex(
            Algorithm::Sha256,
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            None
        ),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
}

/// SHAKE128/256("abc") with 256/512 bits of output (NIST example values;
/// identical to CPython's `hashlib.shake_128(b"abc").hexdigest(32)` etc.).
#[test]
fn shake_abc() {
    assert_eq!(
        hash_hex(Algorithm::Shake128, b"abc", Some(32)),
        "5881092dd818bf5cf8a3ddb793fbcba74097d5c526a6d35f97b83351940f2cc8"
    );
    assert_eq!(
        hash_hex(Algorithm::Shake256, b"abc", Some(64)),
        "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739\
         d5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e4"
    );
    // A shorter output is a prefix of a longer one, and length 0 is allowed
    // (CPython returns b"").
    assert_eq!(hash_hex(Algorithm::Shake128, b"abc", Some(5)), "5881092dd8");
    assert_eq!(hash_hex(Algorithm::Shake128, b"abc", Some(0)), "");
}

/// Cases from BLAKE3's official `test_vectors/test_vectors.json`: input byte i
/// is `i % 251`, outputs are 131 bytes (extended output) in all three modes.
#[test]
fn blake3_official_vectors() {
    const KEY: &[u8; 32] = b"whats the Elvish word for friend";
    const CONTEXT: &str = "BLAKE3 2019-12-27 16:29:52 test vectors context";
    struct Case {
        input_len: usize,
        hash: &'static str,
        keyed_hash: &'static str,
        derive_key: &'static str,
    }
    let cases = [
        Case {
            input_len: 0,
            hash: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262e00f03e7b69af26b7faaf09fcd333050338ddfe085b8cc869ca98b206c08243a26f5487789e8f660afe6c99ef9e0c52b92e7393024a80459cf91f476f9ffdbda7001c22e159b402631f277ca96f2defdf1078282314e763699a31c5363165421cce14d",
            keyed_hash: "92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26b18171a2f22a4b94822c701f107153dba24918c4bae4d2945c20ece13387627d3b73cbf97b797d5e59948c7ef788f54372df45e45e4293c7dc18c1d41144a9758be58960856be1eabbe22c2653190de560ca3b2ac4aa692a9210694254c371e851bc8f",
            derive_key: "2cc39783c223154fea8dfb7c1b1660f2ac2dcbd1c1de8277b0b0dd39b7e50d7d905630c8be290dfcf3e6842f13bddd573c098c3f17361f1f206b8cad9d088aa4a3f746752c6b0ce6a83b0da81d59649257cdf8eb3e9f7d4998e41021fac119deefb896224ac99f860011f73609e6e0e4540f93b273e56547dfd3aa1a035ba6689d89a0",
        },
        Case {
            input_len: 1,
            hash: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213c3a6cb8bf623e20cdb535f8d1a5ffb86342d9c0b64aca3bce1d31f60adfa137b358ad4d79f97b47c3d5e79f179df87a3b9776ef8325f8329886ba42f07fb138bb502f4081cbcec3195c5871e6c23e2cc97d3c69a613eba131e5f1351f3f1da786545e5",
            keyed_hash: "6d7878dfff2f485635d39013278ae14f1454b8c0a3a2d34bc1ab38228a80c95b6568c0490609413006fbd428eb3fd14e7756d90f73a4725fad147f7bf70fd61c4e0cf7074885e92b0e3f125978b4154986d4fb202a3f331a3fb6cf349a3a70e49990f98fe4289761c8602c4e6ab1138d31d3b62218078b2f3ba9a88e1d08d0dd4cea11",
            derive_key: "b3e2e340a117a499c6cf2398a19ee0d29cca2bb7404c73063382693bf66cb06c5827b91bf889b6b97c5477f535361caefca0b5d8c4746441c57617111933158950670f9aa8a05d791daae10ac683cbef8faf897c84e6114a59d2173c3f417023a35d6983f2c7dfa57e7fc559ad751dbfb9ffab39c2ef8c4aafebc9ae973a64f0c76551",
        },
        Case {
            input_len: 1023,
            hash: "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11a182d27a591b05592b15607500e1e8dd56bc6c7fc063715b7a1d737df5bad3339c56778957d870eb9717b57ea3d9fb68d1b55127bba6a906a4a24bbd5acb2d123a37b28f9e9a81bbaae360d58f85e5fc9d75f7c370a0cc09b6522d9c8d822f2f28f485",
            keyed_hash: "c951ecdf03288d0fcc96ee3413563d8a6d3589547f2c2fb36d9786470f1b9d6e890316d2e6d8b8c25b0a5b2180f94fb1a158ef508c3cde45e2966bd796a696d3e13efd86259d756387d9becf5c8bf1ce2192b87025152907b6d8cc33d17826d8b7b9bc97e38c3c85108ef09f013e01c229c20a83d9e8efac5b37470da28575fd755a10",
            derive_key: "74a16c1c3d44368a86e1ca6df64be6a2f64cce8f09220787450722d85725dea59c413264404661e9e4d955409dfe4ad3aa487871bcd454ed12abfe2c2b1eb7757588cf6cb18d2eccad49e018c0d0fec323bec82bf1644c6325717d13ea712e6840d3e6e730d35553f59eff5377a9c350bcc1556694b924b858f329c44ee64b884ef00d",
        },
        Case {
            input_len: 1025,
            hash: "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444f4c4a22b4b399155358a994e52bf255de60035742ec71bd08ac275a1b51cc6bfe332b0ef84b409108cda080e6269ed4b3e2c3f7d722aa4cdc98d16deb554e5627be8f955c98e1d5f9565a9194cad0c4285f93700062d9595adb992ae68ff12800ab67a",
            keyed_hash: "357dc55de0c7e382c900fd6e320acc04146be01db6a8ce7210b7189bd664ea69362396b77fdc0d2634a552970843722066c3c15902ae5097e00ff53f1e116f1cd5352720113a837ab2452cafbde4d54085d9cf5d21ca613071551b25d52e69d6c81123872b6f19cd3bc1333edf0c52b94de23ba772cf82636cff4542540a7738d5b930",
            derive_key: "effaa245f065fbf82ac186839a249707c3bddf6d3fdda22d1b95a3c970379bcb5d31013a167509e9066273ab6e2123bc835b408b067d88f96addb550d96b6852dad38e320b9d940f86db74d398c770f462118b35d2724efa13da97194491d96dd37c3c09cbef665953f2ee85ec83d88b88d11547a6f911c8217cca46defa2751e7f3ad",
        },
        Case {
            input_len: 2049,
            hash: "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b687952256303096de31d71d74103403822a2e0bc1eb193e7aecc9643a76b7bbc0c9f9c52e8783aae98764ca468962b5c2ec92f0c74eb5448d519713e09413719431c802f948dd5d90425a4ecdadece9eb178d80f26efccae630734dff63340285adec2aed3b51073ad3",
            keyed_hash: "9f29700902f7c86e514ddc4df1e3049f258b2472b6dd5267f61bf13983b78dd5f9a88abfefdfa1e00b418971f2b39c64ca621e8eb37fceac57fd0c8fc8e117d43b81447be22d5d8186f8f5919ba6bcc6846bd7d50726c06d245672c2ad4f61702c646499ee1173daa061ffe15bf45a631e2946d616a4c345822f1151284712f76b2b0e",
            derive_key: "2ea477c5515cc3dd606512ee72bb3e0e758cfae7232826f35fb98ca1bcbdf27316d8e9e79081a80b046b60f6a263616f33ca464bd78d79fa18200d06c7fc9bffd808cc4755277a7d5e09da0f29ed150f6537ea9bed946227ff184cc66a72a5f8c1e4bd8b04e81cf40fe6dc4427ad5678311a61f4ffc39d195589bdbc670f63ae70f4b6",
        },
        Case {
            input_len: 7169,
            hash: "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e781798a8b20534be1ca9eb2ae2df3fae2ea60e48c6fb0b850b1385b5de0fe460dbe9d9f9b0d8db4435da75c601156df9d047f4ede008732eb17adc05d96180f8a73548522840779e6062d643b79478a6e8dbce68927f36ebf676ffa7d72d5f68f050b119c8",
            keyed_hash: "ed9b1a922c046fdb3d423ae34e143b05ca1bf28b710432857bf738bcedbfa5113c9e28d72fcbfc020814ce3f5d4fc867f01c8f5b6caf305b3ea8a8ba2da3ab69fabcb438f19ff11f5378ad4484d75c478de425fb8e6ee809b54eec9bdb184315dc856617c09f5340451bf42fd3270a7b0b6566169f242e533777604c118a6358250f54",
            derive_key: "554b0a5efea9ef183f2f9b931b7497995d9eb26f5c5c6dad2b97d62fc5ac31d99b20652c016d88ba2a611bbd761668d5eda3e568e940faae24b0d9991c3bd25a65f770b89fdcadabcb3d1a9c1cb63e69721cacf1ae69fefdcef1e3ef41bc5312ccc17222199e47a26552c6adc460cf47a72319cb5039369d0060eaea59d6c65130f1dd",
        },
    ];
    for case in cases {
        let input: Vec<u8> = (0..case.input_len).map(|i| (i % 251) as u8).collect();
        let modes = [
            (Algorithm::Blake3, case.hash),
            (Algorithm::Blake3Keyed(KEY.to_vec()), case.keyed_hash),
            (
                Algorithm::Blake3DeriveKey(CONTEXT.to_owned()),
                case.derive_key,
            ),
        ];
        for (algorithm, expected) in modes {
            let what = format!("{algorithm:?} input_len={}", case.input_len);
            assert_eq!(
                hash_hex(algorithm.clone(), &input, Some(131)),
                expected,
                "{what}"
            );
            // "implementations should also check that the first 32 bytes match
            // their default-length output"
            assert_eq!(hash_hex(algorithm, &input, None), expected[..64], "{what}");
        }
    }
}

/// xxHash reference values, computed with Python's `xxhash` 4.1.0 (which
/// wraps the reference C library):
/// `xxhash.xxh64(data, seed=s).hexdigest()` and likewise `xxh3_64`,
/// `xxh3_128`, for data `b""`, `b"abc"` and `bytes(range(251)) * 5`.
#[test]
fn xxhash_reference_values() {
    let long: Vec<u8> = (0..1255).map(|i| (i % 251) as u8).collect();
    const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
    let cases: [(Algorithm, &[u8], &str); 18] = [
        (Algorithm::Xxh64(0), b"", "ef46db3751d8e999"),
        (Algorithm::Xxh64(0), b"abc", "44bc2cf5ad770999"),
        (Algorithm::Xxh64(0), &long, "8abc0ca97811a7d2"),
        (Algorithm::Xxh64(SEED), b"", "c4349fc93c010000"),
        (Algorithm::Xxh64(SEED), b"abc", "2ed0f59d6b43ac8b"),
        (Algorithm::Xxh64(SEED), &long, "87ca84eb58e3328c"),
        (Algorithm::Xxh364(0), b"", "2d06800538d394c2"),
        (Algorithm::Xxh364(0), b"abc", "78af5f94892f3950"),
        (Algorithm::Xxh364(0), &long, "acaa4ac9c85b4031"),
        (Algorithm::Xxh364(SEED), b"", "602b0e2cd6662c8b"),
        (Algorithm::Xxh364(SEED), b"abc", "fc1ae99bb3de2336"),
        (Algorithm::Xxh364(SEED), &long, "58d826c033e4ccfc"),
        (
            Algorithm::Xxh3128(0),
            b"",
            "99aa06d3014798d86001c324468d497f",
        ),
        (
            Algorithm::Xxh3128(0),
            b"abc",
            "06b05ab6733a618578af5f94892f3950",
        ),
        (
            Algorithm::Xxh3128(0),
            &long,
            "a939d5319378d3c4acaa4ac9c85b4031",
        ),
        (
            Algorithm::Xxh3128(SEED),
            b"",
            "d142977a2cca554b4ca5176998171787",
        ),
        (
            Algorithm::Xxh3128(SEED),
            b"abc",
            "fa2ec35ca870fcc0fc1ae99bb3de2336",
        ),
        (
            Algorithm::Xxh3128(SEED),
            &long,
            "706dc3168879dc5758d826c033e4ccfc",
        ),
    ];
    for (algorithm, data, expected) in cases {
        let what = format!("{algorithm:?} len={}", data.len());
        assert_eq!(hash_hex(algorithm.clone(), data, None), expected, "{what}");
        // Streaming in uneven pieces gives the same digest.
        let mut state = HashState::new(&algorithm).expect("valid algorithm");
        for piece in data.chunks(7) {
            state.update(piece);
        }
        assert_eq!(
            hex(&state.digest(None).expect("digest")),
            expected,
            "{what}"
        );
    }
}

/// `digest` does not consume: it can be repeated, and `update` may follow.
/// A clone (the resource's `copy`) evolves independently.
#[test]
fn digest_is_repeatable_and_clone_is_independent() {
    let algorithms = [
        Algorithm::Blake3,
        Algorithm::Sha256,
        Algorithm::Sha3512,
        Algorithm::Shake256,
        Algorithm::Xxh3128(7),
        Algorithm::Xxh64(7),
    ];
    for algorithm in algorithms {
        let length = matches!(algorithm, Algorithm::Shake256).then_some(40);
        let mut state = HashState::new(&algorithm).expect("valid algorithm");
        state.update(b"ab");
        let snapshot = state.clone();
        state.update(b"c");
        let first = state.digest(length).expect("digest");
        assert_eq!(
            state.digest(length).expect("digest"),
            first,
            "{algorithm:?}"
        );
        assert_eq!(first, hash(&algorithm, b"abc", length).expect("hash"));

        let mut other = snapshot;
        other.update(b"d");
        assert_eq!(
            other.digest(length).expect("digest"),
            hash(&algorithm, b"abd", length).expect("hash"),
            "{algorithm:?}"
        );
        // The original is unaffected by the clone's update.
        assert_eq!(state.digest(length).expect("digest"), first);

        state.update(b"d");
        assert_eq!(
            state.digest(length).expect("digest"),
            hash(&algorithm, b"abcd", length).expect("hash")
        );
    }
}

#[test]
fn sizes_match_python() {
    // (algorithm, digest_size, block_size) as CPython's hashlib and the
    // `blake3` / `xxhash` packages report them.
    let cases = [
        (Algorithm::Blake3, 32, 64),
        (Algorithm::Sha224, 28, 64),
        (Algorithm::Sha256, 32, 64),
        (Algorithm::Sha384, 48, 128),
        (Algorithm::Sha512, 64, 128),
        (Algorithm::Sha3224, 28, 144),
        (Algorithm::Sha3256, 32, 136),
        (Algorithm::Sha3384, 48, 104),
        (Algorithm::Sha3512, 64, 72),
        (Algorithm::Shake128, 0, 168),
        (Algorithm::Shake256, 0, 136),
        (Algorithm::Xxh364(0), 8, 32),
        (Algorithm::Xxh3128(0), 16, 64),
        (Algorithm::Xxh64(0), 8, 32),
    ];
    for (algorithm, digest_size, block_size) in cases {
        let state = HashState::new(&algorithm).expect("valid algorithm");
        assert_eq!(state.digest_size(), digest_size, "{algorithm:?}");
        assert_eq!(state.block_size(), block_size, "{algorithm:?}");
    }
}

#[test]
fn invalid_parameters_are_errors() {
    let err = HashState::new(&Algorithm::Blake3Keyed(vec![0; 31]))
        .err()
        .expect("short key");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);
    assert!(err.message.contains("32 bytes"), "{}", err.message);

    let err = hash(&Algorithm::Shake128, b"", None).expect_err("shake without length");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);
    assert!(err.message.contains("shake_128"), "{}", err.message);

    let err = hash(&Algorithm::Sha256, b"", Some(16)).expect_err("wrong fixed length");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);

    // The natural length may be given explicitly.
    assert_eq!(
        hash(&Algorithm::Sha256, b"", Some(32)).expect("ok").len(),
        32
    );

    let err = hash(&Algorithm::Blake3, b"", Some(MAX_XOF_LEN + 1)).expect_err("too long");
    assert_eq!(err.kind, ErrorKind::InvalidParameter);
    assert!(err.message.contains("too large"), "{}", err.message);
}
