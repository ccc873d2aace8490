"""_hashlib for Pylon: the parts of CPython's OpenSSL-backed ``_hashlib`` that
``hashlib`` and ``hmac`` use, without OpenSSL.

CPython 3.13's ``hashlib.py`` takes ``pbkdf2_hmac`` and ``scrypt`` only from this
module. Here they are computed by the hashing cap (reached through the generated
``_pylon_hashing`` extension module); this overlay does what ``_hashopenssl.c`` does
around them: argument conversion, the order of the checks, the exception types and
messages.

The message digests themselves stay with CPython's builtin HACL* modules (``_md5``,
``_sha1``, ``_sha2``, ``_sha3``, ``_blake2``): the ``openssl_<name>`` constructors *are*
the builtin constructors, so ``hashlib.sha256 is _sha2.sha256`` exactly as in a build
without ``_hashlib``, and ``new()`` dispatches to them by name.

There is no native HMAC here: ``hmac_new`` and ``hmac_digest`` raise
``UnsupportedDigestmodError``, which makes ``hmac`` use its pure-Python
implementation (over the same builtin hashes) — what it does without ``_hashlib``.
"""

from _operator import _compare_digest as compare_digest

import _pylon_hashing
import _pylon_runtime as _rt

_kdf = _pylon_hashing.kdf
_cap = _pylon_hashing.hashing
_WitError = _pylon_hashing.WitError

__all__ = [
    "UnsupportedDigestmodError", "compare_digest", "get_fips_mode", "hmac_digest",
    "hmac_new", "new", "openssl_md_meth_names", "pbkdf2_hmac", "scrypt",
]

_LONG_MIN = -(1 << 63)
_LONG_MAX = (1 << 63) - 1
_ULONG_MAX = (1 << 64) - 1


class UnsupportedDigestmodError(ValueError):
    pass


UnsupportedDigestmodError.__module__ = "_hashlib"


# --- message digests: the builtin HACL* constructors ------------------------------------

# name -> (module, attribute). The names are those hashlib.py's
# __get_builtin_constructor knows, so new() accepts exactly what hashlib.new()
# accepts in a build without _hashlib.
_BUILTIN = {
    "md5": ("_md5", "md5"), "MD5": ("_md5", "md5"),
    "sha1": ("_sha1", "sha1"), "SHA1": ("_sha1", "sha1"),
    "sha224": ("_sha2", "sha224"), "SHA224": ("_sha2", "sha224"),
    "sha256": ("_sha2", "sha256"), "SHA256": ("_sha2", "sha256"),
    "sha384": ("_sha2", "sha384"), "SHA384": ("_sha2", "sha384"),
    "sha512": ("_sha2", "sha512"), "SHA512": ("_sha2", "sha512"),
    "blake2b": ("_blake2", "blake2b"),
    "blake2s": ("_blake2", "blake2s"),
    "sha3_224": ("_sha3", "sha3_224"),
    "sha3_256": ("_sha3", "sha3_256"),
    "sha3_384": ("_sha3", "sha3_384"),
    "sha3_512": ("_sha3", "sha3_512"),
    "shake_128": ("_sha3", "shake_128"),
    "shake_256": ("_sha3", "shake_256"),
}

_constructor_cache = {}


def _builtin_constructor(name):
    constructor = _constructor_cache.get(name)
    if constructor is None:
        where = _BUILTIN.get(name)
        if where is not None:
            try:
                module = __import__(where[0])
            except ImportError:
                module = None
            constructor = getattr(module, where[1], None)
        if constructor is None:
            raise UnsupportedDigestmodError(f"unsupported hash type {name}")
        _constructor_cache[name] = constructor
    return constructor


def new(name, *args, **kwargs):
    """new(name, data=b'', *, usedforsecurity=True, string=None)

    Return a new hash object using the named algorithm; optionally initialized
    with data (which must be a bytes-like object)."""
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    return _builtin_constructor(name)(*args, **kwargs)


# openssl_md5, openssl_sha1, ... : the builtin constructors themselves. hashlib.py
# probes each with f(usedforsecurity=False) and then uses it as is; hmac.py takes
# type(openssl_sha256) as the "fast path" function type.
def _openssl_constructors():
    found = {}
    for name in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512",
                 "sha3_224", "sha3_256", "sha3_384", "sha3_512", "shake_128", "shake_256"):
        try:
            found[_builtin_constructor(name)] = name
        except ValueError:
            continue
    return found


_constructors = _openssl_constructors()
globals().update(("openssl_" + name, f) for f, name in _constructors.items())
_constructors = type(type.__dict__)(_constructors)  # a read-only mappingproxy, as in C
del _openssl_constructors


def _available():
    # Added to hashlib.algorithms_available: only names new() serves, so the set is
    # what it is without _hashlib.
    names = set()
    for name in _BUILTIN:
        if name.isupper():
            continue
        try:
            _builtin_constructor(name)
        except ValueError:
            continue
        names.add(name)
    return frozenset(names)


openssl_md_meth_names = _available()
del _available


def get_fips_mode():
    """Determine the OpenSSL FIPS mode of operation: always 0 here."""
    return 0


# --- HMAC: always the pure-Python path of hmac.py ---------------------------------------

_buffer = _rt.buffer


def _unsupported_digestmod(digestmod):
    if isinstance(digestmod, str):
        return UnsupportedDigestmodError(f"unsupported hash type {digestmod}")
    return UnsupportedDigestmodError(f"Unsupported digestmod {digestmod!r}")


def hmac_new(key, msg=b"", digestmod=None):
    """Return a new hmac object. Not available here: raises
    UnsupportedDigestmodError, and hmac.py falls back to its own HMAC."""
    _buffer(key)
    if digestmod is None:
        raise TypeError("Missing required parameter 'digestmod'.")
    raise _unsupported_digestmod(digestmod)


def hmac_digest(key, msg, digest):
    """Single-shot HMAC. Not available here: raises UnsupportedDigestmodError, and
    hmac.digest() falls back to its own implementation."""
    _buffer(key)
    _buffer(msg)
    raise _unsupported_digestmod(digest)


# --- key derivation: the hashing cap ----------------------------------------------------

_EXCEPTIONS = {
    _cap.ERROR_KIND_UNSUPPORTED_ALGORITHM: UnsupportedDigestmodError,
    _cap.ERROR_KIND_INVALID_PARAMETER: ValueError,
    _cap.ERROR_KIND_OVERFLOW: OverflowError,
    _cap.ERROR_KIND_OUT_OF_MEMORY: MemoryError,
}


def _raise(exc):
    _rt.raise_error(exc, _EXCEPTIONS, ValueError)


def _index(value):
    # PyLong_AsLong: anything with __index__, never a float.
    if isinstance(value, int):
        return value
    try:
        index = type(value).__index__
    except AttributeError:
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted "
                        "as an integer") from None
    return index(value)


def _as_long(value):
    value = _index(value)
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    return value


def pbkdf2_hmac(hash_name, password, salt, iterations, dklen=None):
    """Password based key derivation function 2 (PKCS #5 v2.0) with HMAC as
    pseudorandom function."""
    if not isinstance(hash_name, str):
        raise TypeError("pbkdf2_hmac() argument 'hash_name' must be str, "
                        f"not {type(hash_name).__name__}")
    if "\0" in hash_name:
        raise ValueError("embedded null character")
    _buffer(password)
    _buffer(salt)
    iterations = _as_long(iterations)
    if dklen is not None:
        try:
            dklen = _as_long(dklen)
        except (TypeError, OverflowError) as bad:
            # CPython converts dklen after checking the hash name and the
            # iteration count: let the cap run those checks first (dklen 0 stops
            # it before any work), then report the conversion error.
            try:
                _kdf.pbkdf2_hmac(hash_name, b"", b"", iterations, 0)
            except _WitError as exc:
                if exc.args[0].message != "key length must be greater than 0.":
                    _raise(exc)
            raise bad from None
    try:
        return _kdf.pbkdf2_hmac(hash_name, password, salt, iterations, dklen)
    except _WitError as exc:
        _raise(exc)


_MISSING = object()


def _unsigned(value, name):
    # PyLong_AsUnsignedLong, with CPython's replacement message for every failure.
    if value is None or value < 0 or value > _ULONG_MAX:
        raise TypeError(f"{name} is required and must be an unsigned int")
    return int(value)


def scrypt(password, *, salt=_MISSING, n=None, r=None, p=None, maxmem=0, dklen=64):
    """scrypt password-based key derivation function."""
    # Argument conversion, in the order of CPython's argument clinic.
    _buffer(password)
    if salt is not _MISSING:
        _buffer(salt)
    for name, value in (("n", n), ("r", r), ("p", p)):
        if value is not None and not isinstance(value, int):
            raise TypeError(f"scrypt() argument '{name}' must be int, "
                            f"not {type(value).__name__}")
    maxmem = _as_long(maxmem)
    dklen = _as_long(dklen)
    # _hashlib_scrypt_impl's own checks before it asks OpenSSL (the cap repeats
    # them, and OpenSSL's).
    if salt is _MISSING:
        raise TypeError("salt is required")
    n = _unsigned(n, "n")
    if n < 2 or n & (n - 1):
        raise ValueError("n must be a power of 2.")
    r = _unsigned(r, "r")
    p = _unsigned(p, "p")
    try:
        return _kdf.scrypt(password, salt, n, r, p, maxmem, dklen)
    except _WitError as exc:
        _raise(exc)
