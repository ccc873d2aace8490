"""hashing cap smoke test, run inside pylon.wasm by scripts/smoke.py.

* hashlib.pbkdf2_hmac / hashlib.scrypt (served by the `_hashlib` overlay over the cap):
  RFC 6070 and RFC 7914 vectors, plus values the host's hashlib (OpenSSL) computed
  (hashing_smoke_host.py, via /smoke/host.json);
* the rest of hashlib, hmac, secrets and random still work with that `_hashlib`;
* the `blake3` and `xxhash` overlays against published vectors;
* the cap's own sha2/sha3/shake digests against the host's hashlib;
* error paths raise what the host's CPython raises.
"""
import hashlib
import hmac
import io
import json
import os
import random
import secrets
import time

import _hashlib
import _pylon_hashing
import blake3
import xxhash

cap = _pylon_hashing.hashing
kdf = _pylon_hashing.kdf

with open("/smoke/host.json") as f:
    host = json.load(f)["hashing"]
inputs = {name: bytes.fromhex(h) for name, h in host["inputs"].items()}


def raises(exc_type, func, *args, **kwargs):
    try:
        func(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError(f"{exc_type.__name__} not raised by {func.__name__}{args}")


# --- _hashlib is the overlay, and hashlib still uses the builtin HACL* hashes ---------
assert _hashlib.__name__ == "_hashlib" and hasattr(_hashlib, "pbkdf2_hmac")
assert hashlib.pbkdf2_hmac is _hashlib.pbkdf2_hmac
assert hashlib.scrypt is _hashlib.scrypt
assert "pbkdf2_hmac" in hashlib.__all__
import _sha2  # noqa: E402
import _sha3  # noqa: E402
assert hashlib.sha256 is _sha2.sha256 and hashlib.sha3_256 is _sha3.sha3_256
assert hashlib.algorithms_available == hashlib.algorithms_guaranteed, \
    hashlib.algorithms_available
assert issubclass(_hashlib.UnsupportedDigestmodError, ValueError)
assert _hashlib.get_fips_mode() == 0

for name in sorted(hashlib.algorithms_guaranteed):
    h = hashlib.new(name, b"abc")
    assert h.name == name, (h.name, name)
    if name.startswith("shake"):
        assert h.digest(16) == getattr(hashlib, name)(b"abc").digest(16), name
    else:
        assert h.digest() == getattr(hashlib, name)(b"abc").digest(), name
for label, data in inputs.items():
    for case, entry in host["digests"].items():
        name = entry["name"]
        if name.startswith("shake"):
            for n, want in entry["values"][label].items():
                assert hashlib.new(name, data).hexdigest(int(n)) == want, (name, label, n)
        else:
            assert hashlib.new(name, data).hexdigest() == entry["values"][label], (name, label)
assert hashlib.new("SHA256", b"abc").hexdigest() == \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
assert hashlib.md5(b"", usedforsecurity=False).hexdigest() == "d41d8cd98f00b204e9800998ecf8427e"

# file_digest: BytesIO (getbuffer path) and a real file (readinto path).
assert hashlib.file_digest(io.BytesIO(inputs["random"]), "sha256").hexdigest() == \
    host["file_digest"]
os.makedirs("/smoke/hashing-out", exist_ok=True)
with open("/smoke/hashing-out/random.bin", "wb") as f:
    f.write(inputs["random"])
with open("/smoke/hashing-out/random.bin", "rb") as f:
    assert hashlib.file_digest(f, hashlib.sha256).hexdigest() == host["file_digest"]

# hmac: the pure-Python path over the builtin hashes, by name and by constructor.
for entry in host["hmac"]:
    key, msg = bytes.fromhex(entry["key"]), inputs["block"]
    name = entry["name"]
    assert hmac.new(key, msg, name).hexdigest() == entry["want"], entry
    assert hmac.new(key, msg, getattr(hashlib, name)).hexdigest() == entry["want"], entry
    assert hmac.digest(key, msg, name).hex() == entry["want"], entry
    h = hmac.new(key, digestmod=name)
    h.update(msg[:100])
    twin = h.copy()
    h.update(msg[100:])
    twin.update(msg[100:])
    assert h.hexdigest() == twin.hexdigest() == entry["want"], entry
    assert h.name == f"hmac-{name}", h.name
assert hmac.compare_digest(b"abc", b"abc") and not hmac.compare_digest("abc", "abd")
raises(TypeError, hmac.compare_digest, "abc", b"abc")

# secrets and random.
assert len(secrets.token_bytes(32)) == 32 and len(secrets.token_hex(16)) == 32
assert secrets.compare_digest(secrets.token_urlsafe(8), "x") is False
assert random.Random("a str seed goes through sha512").random() == host["random_str_seed"]
random.seed(b"bytes seed")
random.random()

# --- pbkdf2_hmac ----------------------------------------------------------------------
# RFC 6070 (PBKDF2-HMAC-SHA1). The 2^24-iteration vector is left out (too slow here).
RFC6070 = [
    (b"password", b"salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
    (b"password", b"salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
    (b"password", b"salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"),
    (b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25,
     "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"),
    (b"pass\0word", b"sa\0lt", 4096, 16, "56fa6aa75548099dcc37d7f03425e0c3"),
]
for password, salt, c, dklen, want in RFC6070:
    assert hashlib.pbkdf2_hmac("sha1", password, salt, c, dklen).hex() == want, (c, dklen)
    assert hashlib.pbkdf2_hmac("sha1", bytearray(password), memoryview(salt), c,
                               dklen).hex() == want
assert hashlib.pbkdf2_hmac(hash_name="sha1", password=b"password", salt=b"salt",
                           iterations=2).hex() == RFC6070[1][4]
for entry in host["pbkdf2"]:
    got = hashlib.pbkdf2_hmac(entry["name"], bytes.fromhex(entry["password"]),
                              bytes.fromhex(entry["salt"]), entry["iterations"],
                              entry["dklen"])
    assert got.hex() == entry["want"], entry
assert len({e["name"] for e in host["pbkdf2"]}) >= 14, host["pbkdf2"]

# --- scrypt ---------------------------------------------------------------------------
# RFC 7914 section 12. The N=2^20 vector needs 1 GiB, above the default maxmem.
RFC7914 = [
    (b"", b"", 16, 1, 1,
     "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
     "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"),
    (b"password", b"NaCl", 1024, 8, 16,
     "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
     "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"),
    (b"pleaseletmein", b"SodiumChloride", 16384, 8, 1,
     "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
     "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"),
]
scrypt_times = []
for password, salt, n, r, p, want in RFC7914:
    t0 = time.monotonic()
    assert hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=64).hex() == want, n
    scrypt_times.append((n, round(time.monotonic() - t0, 2)))
assert hashlib.scrypt(b"", salt=b"", n=16, r=1, p=1).hex() == RFC7914[0][5]  # dklen=64
for entry in host["scrypt"]:
    got = hashlib.scrypt(bytes.fromhex(entry["password"]), salt=bytes.fromhex(entry["salt"]),
                         n=entry["n"], r=entry["r"], p=entry["p"], dklen=entry["dklen"])
    assert got.hex() == entry["want"], entry

# --- error paths: what the host's CPython raises --------------------------------------
# The same class, or, where the host raises the plain builtin (Debian 12's python3.11
# for pbkdf2_hmac with an unknown digest), a subclass of it: what catches the host's
# exception catches this one. The asserts after this loop pin this version's classes.
for entry in host["errors"]:
    try:
        eval(entry["expr"], {"hashlib": hashlib, "hmac": hmac})
    except Exception as e:  # noqa: BLE001
        base = next(c for c in type(e).__mro__ if c.__module__ == "builtins")
        same_class = type(e).__name__ == entry["type"]
        assert base.__name__ == entry["base"] and (same_class or entry["type"] == entry["base"]), \
            (entry, type(e).__name__, str(e))
        if same_class and entry["message"] is not None and not entry["message"].startswith("["):
            # CPython's own message (not OpenSSL's text, not an argument-count error)
            assert str(e) == entry["message"], (entry, str(e))
    else:
        raise AssertionError(f"no exception: {entry['expr']}")
e = raises(ValueError, hashlib.pbkdf2_hmac, "nope", b"p", b"s", 1)
assert type(e) is _hashlib.UnsupportedDigestmodError and str(e) == "unsupported hash type nope"
assert str(raises(ValueError, hashlib.pbkdf2_hmac, "sha1", b"p", b"s", 0)) == \
    "iteration value must be greater than 0."
assert str(raises(ValueError, hashlib.scrypt, b"p", salt=b"s", n=3, r=1, p=1)) == \
    "n must be a power of 2."

# BLAKE3's official test vectors (BLAKE3-team/BLAKE3, test_vectors/test_vectors.json):
# input_len -> (hash, keyed_hash, derive_key), each 131 bytes of extended output.
BLAKE3_VECTORS = {
    0: (
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262e0"
        "0f03e7b69af26b7faaf09fcd333050338ddfe085b8cc869ca98b206c08243a26f5"
        "487789e8f660afe6c99ef9e0c52b92e7393024a80459cf91f476f9ffdbda7001c2"
        "2e159b402631f277ca96f2defdf1078282314e763699a31c5363165421cce14d",
        "92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26b1"
        "8171a2f22a4b94822c701f107153dba24918c4bae4d2945c20ece13387627d3b73"
        "cbf97b797d5e59948c7ef788f54372df45e45e4293c7dc18c1d41144a9758be589"
        "60856be1eabbe22c2653190de560ca3b2ac4aa692a9210694254c371e851bc8f",
        "2cc39783c223154fea8dfb7c1b1660f2ac2dcbd1c1de8277b0b0dd39b7e50d7d90"
        "5630c8be290dfcf3e6842f13bddd573c098c3f17361f1f206b8cad9d088aa4a3f7"
        "46752c6b0ce6a83b0da81d59649257cdf8eb3e9f7d4998e41021fac119deefb896"
        "224ac99f860011f73609e6e0e4540f93b273e56547dfd3aa1a035ba6689d89a0",
    ),
    1: (
        "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213c3"
        "a6cb8bf623e20cdb535f8d1a5ffb86342d9c0b64aca3bce1d31f60adfa137b358a"
        "d4d79f97b47c3d5e79f179df87a3b9776ef8325f8329886ba42f07fb138bb502f4"
        "081cbcec3195c5871e6c23e2cc97d3c69a613eba131e5f1351f3f1da786545e5",
        "6d7878dfff2f485635d39013278ae14f1454b8c0a3a2d34bc1ab38228a80c95b65"
        "68c0490609413006fbd428eb3fd14e7756d90f73a4725fad147f7bf70fd61c4e0c"
        "f7074885e92b0e3f125978b4154986d4fb202a3f331a3fb6cf349a3a70e49990f9"
        "8fe4289761c8602c4e6ab1138d31d3b62218078b2f3ba9a88e1d08d0dd4cea11",
        "b3e2e340a117a499c6cf2398a19ee0d29cca2bb7404c73063382693bf66cb06c58"
        "27b91bf889b6b97c5477f535361caefca0b5d8c4746441c5761711193315895067"
        "0f9aa8a05d791daae10ac683cbef8faf897c84e6114a59d2173c3f417023a35d69"
        "83f2c7dfa57e7fc559ad751dbfb9ffab39c2ef8c4aafebc9ae973a64f0c76551",
    ),
    1023: (
        "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11a1"
        "82d27a591b05592b15607500e1e8dd56bc6c7fc063715b7a1d737df5bad3339c56"
        "778957d870eb9717b57ea3d9fb68d1b55127bba6a906a4a24bbd5acb2d123a37b2"
        "8f9e9a81bbaae360d58f85e5fc9d75f7c370a0cc09b6522d9c8d822f2f28f485",
        "c951ecdf03288d0fcc96ee3413563d8a6d3589547f2c2fb36d9786470f1b9d6e89"
        "0316d2e6d8b8c25b0a5b2180f94fb1a158ef508c3cde45e2966bd796a696d3e13e"
        "fd86259d756387d9becf5c8bf1ce2192b87025152907b6d8cc33d17826d8b7b9bc"
        "97e38c3c85108ef09f013e01c229c20a83d9e8efac5b37470da28575fd755a10",
        "74a16c1c3d44368a86e1ca6df64be6a2f64cce8f09220787450722d85725dea59c"
        "413264404661e9e4d955409dfe4ad3aa487871bcd454ed12abfe2c2b1eb7757588"
        "cf6cb18d2eccad49e018c0d0fec323bec82bf1644c6325717d13ea712e6840d3e6"
        "e730d35553f59eff5377a9c350bcc1556694b924b858f329c44ee64b884ef00d",
    ),
    1024: (
        "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af71c"
        "f8107265ecdaf8505b95d8fcec83a98a6a96ea5109d2c179c47a387ffbb404756f"
        "6eeae7883b446b70ebb144527c2075ab8ab204c0086bb22b7c93d465efc57f8d91"
        "7f0b385c6df265e77003b85102967486ed57db5c5ca170ba441427ed9afa684e",
        "75c46f6f3d9eb4f55ecaaee480db732e6c2105546f1e675003687c31719c7ba4a7"
        "8bc838c72852d4f49c864acb7adafe2478e824afe51c8919d06168414c265f298a"
        "8094b1ad813a9b8614acabac321f24ce61c5a5346eb519520d38ecc43e89b50002"
        "36df0597243e4d2493fd626730e2ba17ac4d8824d09d1a4a8f57b8227778e2de",
        "7356cd7720d5b66b6d0697eb3177d9f8d73a4a5c5e968896eb6a6896843027066c"
        "23b601d3ddfb391e90d5c8eccdef4ae2a264bce9e612ba15e2bc9d654af1481b2e"
        "75dbabe615974f1070bba84d56853265a34330b4766f8e75edd1f4a1650476c108"
        "02f22b64bd3919d246ba20a17558bc51c199efdec67e80a227251808d8ce5bad",
    ),
    1025: (
        "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444f4"
        "c4a22b4b399155358a994e52bf255de60035742ec71bd08ac275a1b51cc6bfe332"
        "b0ef84b409108cda080e6269ed4b3e2c3f7d722aa4cdc98d16deb554e5627be8f9"
        "55c98e1d5f9565a9194cad0c4285f93700062d9595adb992ae68ff12800ab67a",
        "357dc55de0c7e382c900fd6e320acc04146be01db6a8ce7210b7189bd664ea6936"
        "2396b77fdc0d2634a552970843722066c3c15902ae5097e00ff53f1e116f1cd535"
        "2720113a837ab2452cafbde4d54085d9cf5d21ca613071551b25d52e69d6c81123"
        "872b6f19cd3bc1333edf0c52b94de23ba772cf82636cff4542540a7738d5b930",
        "effaa245f065fbf82ac186839a249707c3bddf6d3fdda22d1b95a3c970379bcb5d"
        "31013a167509e9066273ab6e2123bc835b408b067d88f96addb550d96b6852dad3"
        "8e320b9d940f86db74d398c770f462118b35d2724efa13da97194491d96dd37c3c"
        "09cbef665953f2ee85ec83d88b88d11547a6f911c8217cca46defa2751e7f3ad",
    ),
    31744: (
        "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c4786"
        "0cc51f2b0c28a7b77304bd55fe73af663c02d3f52ea053ba43431ca5bab7bfea2f"
        "5e9d7121770d88f70ae9649ea713087d1914f7f312147e247f87eb2d4ffef0ac97"
        "8bf7b6579d57d533355aa20b8b77b13fd09748728a5cc327a8ec470f4013226f",
        "efa53b389ab67c593dba624d898d0f7353ab99e4ac9d42302ee64cbf9939a4193a"
        "7258db2d9cd32a7a3ecfce46144114b15c2fcb68a618a976bd74515d47be08b628"
        "be420b5e830fade7c080e351a076fbc38641ad80c736c8a18fe3c66ce12f95c61c"
        "2462a9770d60d0f77115bbcd3782b593016a4e728d4c06cee4505cb0c08a42ec",
        "39772aef80e0ebe60596361e45b061e8f417429d529171b6764468c22928e28e97"
        "59adeb797a3fbf771b1bcea30150a020e317982bf0d6e7d14dd9f064bc11025c25"
        "f31e81bd78a921db0174f03dd481d30e93fd8e90f8b2fee209f849f2d2a52f3171"
        "9a490fb0ba7aea1e09814ee912eba111a9fde9d5c274185f7bae8ba85d300a2b",
    ),
}


def painted(n):
    return bytes(i % 251 for i in range(n))


KEY = b"whats the Elvish word for friend"
CONTEXT = "BLAKE3 2019-12-27 16:29:52 test vectors context"
assert BLAKE3_VECTORS[0][0].startswith(
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262")
for n, wants in BLAKE3_VECTORS.items():
    data = painted(n)
    for mode, want in zip(("hash", "keyed_hash", "derive_key"), wants):
        kwargs = {"keyed_hash": {"key": KEY},
                  "derive_key": {"derive_key_context": CONTEXT}}.get(mode, {})
        h = blake3.blake3(data, **kwargs)
        assert h.hexdigest() == want[:64], (n, mode)
        assert h.digest(131).hex() == want, (n, mode)
        assert h.hexdigest(length=31, seek=100) == want[200:262], (n, mode)
        # incremental, in uneven pieces; update() chains
        g = blake3.blake3(**kwargs)
        for i in range(0, n, 1000):
            assert g.update(memoryview(data)[i:i + 1000]) is g
        assert g.digest() == h.digest(), (n, mode)
        # copy is independent; reset keeps the mode
        c = g.copy()
        c.update(b"more")
        assert g.digest() == h.digest() and c.digest() != g.digest()
        c.reset()
        assert c.update(data).hexdigest() == want[:64], (n, mode)
        # the cap directly
        algorithm = {"hash": cap.ALGORITHM_BLAKE3,
                     "keyed_hash": (cap.ALGORITHM_BLAKE3_KEYED, KEY),
                     "derive_key": (cap.ALGORITHM_BLAKE3_DERIVE_KEY, CONTEXT)}[mode]
        assert cap.hash(algorithm, data, 131).hex() == want, (n, mode)
        assert cap.hash(algorithm, data, None).hex() == want[:64], (n, mode)

b = blake3.blake3
assert (b.name, b.digest_size, b.block_size, b.key_size, b.AUTO) == ("blake3", 32, 64, 32, -1)
assert b(b"x", max_threads=b.AUTO).digest() == b(b"x", max_threads=4).digest() == b(b"x").digest()
assert b(None).digest() == b().digest() == b(b"").digest()
assert b(bytearray(b"abc"), usedforsecurity=False).digest() == b(b"abc").digest()
assert str(raises(ValueError, b, key=b"short")) == "expected a 32-byte key, found 5"
assert "at the same time" in str(raises(ValueError, b, key=KEY, derive_key_context="c"))
raises(ValueError, b, max_threads=0)
raises(TypeError, b, "text")
raises(TypeError, b, derive_key_context=b"bytes")
raises(TypeError, b().update, "text")
raises(ValueError, b().digest, 1 << 29)
raises(ValueError, b().digest, 10, seek=(1 << 29) - 5)
raises(OverflowError, b().digest, -1)
with open("/smoke/hashing-out/random.bin", "rb") as f:
    whole = f.read()
assert b().update_mmap("/smoke/hashing-out/random.bin").digest() == b(whole).digest()

# --- xxhash ---------------------------------------------------------------------------
# Published values: xxHash's XXH64 of "" / "a" / "abc", and python-xxhash's own tests
# (tests/test_xxh64.py, test_xxh3_64.py, test_xxh3_128.py) for "a" with seeds 0, 1,
# 2**64-1; the empty-input XXH3 values from xxHash's documentation and sanity tests.
XXH_PUBLISHED = [
    (xxhash.xxh64, b"", 0, 0xEF46DB3751D8E999),
    (xxhash.xxh64, b"a", 0, 0xD24EC4F1A98C6E5B),
    (xxhash.xxh64, b"abc", 0, 0x44BC2CF5AD770999),
    (xxhash.xxh64, b"this is a test", 0xCAFE, 0x4228C3215949E862),
    (xxhash.xxh64, b"a", 0, 15154266338359012955),
    (xxhash.xxh64, b"a", 1, 16051599287423682246),
    (xxhash.xxh64, b"a", 2**64 - 1, 6972758980737027682),
    (xxhash.xxh3_64, b"", 0, 0x2D06800538D394C2),
    (xxhash.xxh3_64, b"a", 0, 16629034431890738719),
    (xxhash.xxh3_64, b"a", 1, 15201566949650179872),
    (xxhash.xxh3_64, b"a", 2**64 - 1, 4875116479388997462),
    (xxhash.xxh3_128, b"", 0, 0x99AA06D3014798D86001C324468D497F),
    (xxhash.xxh3_128, b"a", 0, 225219434562328483135862406050043285023),
    (xxhash.xxh3_128, b"a", 1, 337425133163118381928709500770786453280),
    (xxhash.xxh3_128, b"a", 2**64 - 1, 198297796855923085494266857744987477846),
]
oneshot = {xxhash.xxh64: "xxh64", xxhash.xxh3_64: "xxh3_64", xxhash.xxh3_128: "xxh3_128"}
for cls, data, seed, want in XXH_PUBLISHED:
    size = cls.digest_size
    h = cls(data, seed)
    assert h.intdigest() == want, (cls.name, data, seed, h.hexdigest())
    assert h.digest() == want.to_bytes(size, "big") and h.hexdigest() == f"{want:0{size * 2}x}"
    assert cls(data.decode(), seed=seed + 2**64).intdigest() == want  # str, seed mod 2**64
    assert h.seed == seed
    prefix = oneshot[cls]
    assert getattr(xxhash, f"{prefix}_intdigest")(data, seed) == want
    assert getattr(xxhash, f"{prefix}_digest")(data, seed=seed) == h.digest()
    assert getattr(xxhash, f"{prefix}_hexdigest")(data, seed) == h.hexdigest()
    # the cap directly
    case = {xxhash.xxh64: cap.ALGORITHM_XXH64, xxhash.xxh3_64: cap.ALGORITHM_XXH3_64,
            xxhash.xxh3_128: cap.ALGORITHM_XXH3_128}[cls]
    assert int.from_bytes(cap.hash((case, seed), data, None), "big") == want
assert xxhash.xxh128 is xxhash.xxh3_128 and xxhash.xxh128_intdigest is xxhash.xxh3_128_intdigest
assert xxhash.xxh128_hexdigest(b"") == "99aa06d3014798d86001c324468d497f"
for cls, name, size, block in ((xxhash.xxh64, "XXH64", 8, 32),
                               (xxhash.xxh3_64, "XXH3_64", 8, 32),
                               (xxhash.xxh3_128, "XXH3_128", 16, 64)):
    h = cls(seed=-1)
    assert h.seed == 2**64 - 1
    assert (h.name, h.digest_size, h.digestsize, h.block_size) == (name, size, size, block)
    hasher = cap.Hasher((h._case, 0))
    assert (hasher.digest_size(), hasher.block_size()) == (size, block), name
    hasher.close()
    empty = h.intdigest()
    data = inputs["random"]
    for i in range(0, len(data), 4099):
        assert h.update(data[i:i + 4099]) is None
    assert h.digest() == cls(data, -1).digest()
    c = h.copy()
    c.update(b"x")
    assert c.digest() != h.digest() and h.digest() == cls(data, -1).digest()
    h.reset()
    assert h.intdigest() == empty and h.seed == 2**64 - 1
    raises(TypeError, cls, None)
    raises(TypeError, cls, b"", 1.5)
    raises(TypeError, h.update, 5)

# --- the cap's sha2/sha3/shake against the host's hashlib -----------------------------
for case, entry in host["digests"].items():
    algorithm = getattr(cap, f"ALGORITHM_{case}")
    shake = entry["name"].startswith("shake")
    h = cap.Hasher(algorithm)
    assert h.digest_size() == entry["digest_size"], (case, h.digest_size())
    assert h.block_size() == entry["block_size"], (case, h.block_size())
    for label, data in inputs.items():
        want = entry["values"][label]
        if shake:
            for n, w in want.items():
                assert cap.hash(algorithm, data, int(n)).hex() == w, (case, label, n)
            raises(_pylon_hashing.WitError, cap.hash, algorithm, data, None)
        else:
            assert cap.hash(algorithm, data, None).hex() == want, (case, label)
            assert cap.hash(algorithm, data, entry["digest_size"]).hex() == want
            err = raises(_pylon_hashing.WitError, cap.hash, algorithm, data, 1)
            assert err.args[0].kind == cap.ERROR_KIND_INVALID_PARAMETER, err.args
    # streaming: digest does not consume; copy is independent
    data = inputs["random"]
    for i in range(0, len(data), 65536):
        h.update(data[i:i + 65536])
    n = 100 if shake else None
    first = h.digest(n)
    assert h.digest(n) == first
    twin = h.copy()
    twin.update(b"x")
    assert twin.digest(n) != first and h.digest(n) == first
    assert first.hex() == (entry["values"]["random"]["100"] if shake
                           else entry["values"]["random"]), case
    with twin:
        pass
    raises(ValueError, twin.digest, n)  # closed
    h.close()
    h.close()  # idempotent

err = raises(_pylon_hashing.WitError, cap.Hasher, (cap.ALGORITHM_BLAKE3_KEYED, b"short"))
assert err.args[0].kind == cap.ERROR_KIND_INVALID_PARAMETER and "32" in err.args[0].message

# argon2id is in the cap but has no overlay yet: RFC 9106 needs secret+ad; a smoke call.
out = kdf.argon2id(b"password", b"somesalt", 2, 64, 1, 32, None, None)
assert len(out) == 32

print(f"hashing smoke: OK (scrypt seconds by N: {scrypt_times})")
