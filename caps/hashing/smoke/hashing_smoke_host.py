"""Host side of hashing_smoke.py: expected values from the host's hashlib (OpenSSL) and
hmac, and how the host's CPython fails on bad arguments (the guest must fail the same
way)."""
import hashlib
import hmac
import random

# Hash names the hashing cap's pbkdf2-hmac accepts, as CPython spells them, plus some
# OpenSSL spellings; only those the host's OpenSSL also has are used.
PBKDF2_NAMES = [
    "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha512_224", "sha512_256",
    "sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s",
    "SHA256", "sha-256", "SHA3-256",
]

# The hashing cap's `algorithm` cases with a hashlib counterpart: cap constant suffix
# -> hashlib name.
CAP_DIGESTS = {
    "SHA224": "sha224", "SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512",
    "SHA3_224": "sha3_224", "SHA3_256": "sha3_256", "SHA3_384": "sha3_384",
    "SHA3_512": "sha3_512", "SHAKE128": "shake_128", "SHAKE256": "shake_256",
}

# Expressions evaluated on both sides with `hashlib`, `hmac` and `b` (bytes) in scope;
# each must raise. The guest must raise the same exception class (by name and by its
# builtin base), and the same message unless the host's comes from OpenSSL ("[...]")
# or the case is in TYPE_ONLY (argument-count errors: the overlay's functions are
# Python functions, whose messages differ from Argument Clinic's).
TYPE_ONLY = {
    "hashlib.pbkdf2_hmac('sha256', b'p', b's')",
    "hashlib.scrypt(b'p', b's', n=2, r=1, p=1)",
}
ERROR_CASES = [
    "hashlib.pbkdf2_hmac('nope', b'p', b's', 1)",
    "hashlib.pbkdf2_hmac('nope', b'p', b's', 0)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 0)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', -5)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 1, 0)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 1, -1)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 2**31)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 1, 2**31)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 2**63)",
    "hashlib.pbkdf2_hmac('sha256', 'p', b's', 1)",
    "hashlib.pbkdf2_hmac('sha256', b'p', None, 1)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 1.5)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 1, 1.5)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's', 0, 1.5)",
    "hashlib.pbkdf2_hmac(b'sha256', b'p', b's', 1)",
    "hashlib.pbkdf2_hmac('sha256', b'p', b's')",
    "hashlib.scrypt(b'p', salt=b's', n=3, r=1, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=1, r=1, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=0, r=1, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=-2, r=1, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=2.0, r=1, p=1)",
    "hashlib.scrypt(b'p', salt=b's', r=1, p=1)",
    "hashlib.scrypt(b'p', n=2, r=1, p=1)",
    "hashlib.scrypt(b'p', salt=None, n=2, r=1, p=1)",
    "hashlib.scrypt('p', salt=b's', n=2, r=1, p=1)",
    "hashlib.scrypt(b'p', b's', n=2, r=1, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=2, r=0, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=2, r=1, p=0)",
    "hashlib.scrypt(b'p', salt=b's', n=2, r=-1, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=2, r=1, p=1, maxmem=-1)",
    "hashlib.scrypt(b'p', salt=b's', n=2, r=1, p=1, maxmem=2**31)",
    "hashlib.scrypt(b'p', salt=b's', n=2, r=1, p=1, dklen=0)",
    "hashlib.scrypt(b'p', salt=b's', n=2, r=1, p=1, dklen=2**31)",
    "hashlib.scrypt(b'p', salt=b's', n=2, r=1, p=1, dklen=1.0)",
    "hashlib.scrypt(b'p', salt=b's', n=2**17, r=1, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=2**20, r=8, p=1)",
    "hashlib.scrypt(b'p', salt=b's', n=1024, r=8, p=16, maxmem=1024)",
    "hashlib.new('nope')",
    "hashlib.new('sha256', 'text')",
    "hmac.new(b'key', b'msg', 'nope')",
    "hmac.new('key', b'msg', 'sha256')",
    "hmac.digest(b'key', b'msg', 'nope')",
]


def _error(expr):
    try:
        eval(expr, {"hashlib": hashlib, "hmac": hmac})
    except Exception as e:  # noqa: BLE001 - recording whatever the host raises
        base = next(c for c in type(e).__mro__ if c.__module__ == "builtins")
        return {"expr": expr, "type": type(e).__name__, "base": base.__name__,
                "message": None if expr in TYPE_ONLY else str(e)}
    raise AssertionError(f"host: {expr} did not raise")


def _inputs():
    rng = random.Random(20261126)
    return {
        "empty": b"",
        "abc": b"abc",
        "block": bytes(range(256)) * 4,
        "random": rng.randbytes(200_003),
    }


def prepare(scratch):
    rng = random.Random(7914)
    inputs = _inputs()

    pbkdf2 = []
    for name in PBKDF2_NAMES:
        for password, salt, iterations, dklen in (
            (b"password", b"salt", 1, None),
            (b"correct horse battery staple", rng.randbytes(16), 1000, None),
            (rng.randbytes(200), b"", 3, 77),  # long password: hashed as the HMAC key
        ):
            try:
                want = hashlib.pbkdf2_hmac(name, password, salt, iterations, dklen)
            except ValueError:
                continue  # not in the host's OpenSSL
            pbkdf2.append({"name": name, "password": password.hex(), "salt": salt.hex(),
                           "iterations": iterations, "dklen": dklen, "want": want.hex()})

    scrypt = []
    for password, salt, n, r, p, dklen in (
        (b"pw", b"salt", 2, 1, 1, 64),
        (rng.randbytes(33), rng.randbytes(16), 256, 4, 2, 32),
        (b"", b"NaCl", 1024, 1, 1, 100),
        (b"password", b"", 64, 2, 3, 1),
    ):
        scrypt.append({"password": password.hex(), "salt": salt.hex(), "n": n, "r": r,
                       "p": p, "dklen": dklen,
                       "want": hashlib.scrypt(password, salt=salt, n=n, r=r, p=p,
                                              dklen=dklen).hex()})

    digests = {}
    for case, name in CAP_DIGESTS.items():
        h = hashlib.new(name)
        entry = {"name": name, "digest_size": h.digest_size, "block_size": h.block_size,
                 "values": {}}
        for label, data in inputs.items():
            if name.startswith("shake"):
                entry["values"][label] = {str(n): hashlib.new(name, data).hexdigest(n)
                                          for n in (1, 16, 100, 1000)}
            else:
                entry["values"][label] = hashlib.new(name, data).hexdigest()
        digests[case] = entry

    hmacs = []
    for name in ("md5", "sha1", "sha256", "sha512", "sha3_256", "blake2b"):
        for key in (b"key", bytes(range(200))):  # the second is longer than any block
            msg = inputs["block"]
            hmacs.append({"name": name, "key": key.hex(),
                          "want": hmac.new(key, msg, name).hexdigest()})

    return {
        "inputs": {k: v.hex() for k, v in inputs.items()},
        "pbkdf2": pbkdf2,
        "scrypt": scrypt,
        "digests": digests,
        "hmac": hmacs,
        "random_str_seed": random.Random("a str seed goes through sha512").random(),
        "file_digest": hashlib.sha256(inputs["random"]).hexdigest(),
        "errors": [_error(expr) for expr in ERROR_CASES],
    }


def check(scratch):
    return []
