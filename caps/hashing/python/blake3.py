"""blake3 for Pylon: the API of the PyPI ``blake3`` package (``from blake3 import
blake3``), computed by the hashing cap.

The hashing itself happens in the hashing cap (the official Rust ``blake3`` crate,
pure-Rust build), reached through the generated ``_pylon_hashing`` extension module.

Differences from the PyPI package, all forced by the sandbox:

* ``max_threads`` is validated but ignored: a component instance has one thread.
* Extendable output is limited: ``seek + length`` must stay below 2**29 bytes (the
  cap's output limit; ``seek`` is served by computing the longer output and slicing).
  Beyond that, ``digest``/``hexdigest`` raise ``ValueError``.
"""

import _pylon_hashing
import _pylon_runtime as _rt

_cap = _pylon_hashing.hashing
_WitError = _pylon_hashing.WitError

__all__ = ["blake3"]
__version__ = "1.0.0+pylon"

# The cap's limit on extendable output (`MAX_XOF_LEN`): lengths up to 2**29 - 1.
_MAX_OUTPUT = (1 << 29) - 1
_NO_DATA = object()

_EXCEPTIONS = {
    _cap.ERROR_KIND_UNSUPPORTED_ALGORITHM: ValueError,
    _cap.ERROR_KIND_INVALID_PARAMETER: ValueError,
    _cap.ERROR_KIND_OVERFLOW: OverflowError,
    _cap.ERROR_KIND_OUT_OF_MEMORY: MemoryError,
}


def _raise(exc):
    _rt.raise_error(exc, _EXCEPTIONS, ValueError)


def _contiguous(obj):
    """A bytes-like object's bytes (a copy), failing like a buffer conversion does."""
    return bytes(_rt.buffer(obj))


def _unsigned(value, what):
    if not isinstance(value, int):
        try:
            value = type(value).__index__(value)
        except AttributeError:
            raise TypeError(f"'{type(value).__name__}' object cannot be interpreted "
                            "as an integer") from None
    if value < 0:
        raise OverflowError(f"{what} must not be negative")
    return value


class blake3:
    """An incremental BLAKE3 hasher, which can accept any number of writes.

    blake3(data=b'', /, *, key=None, derive_key_context=None, max_threads=1,
           usedforsecurity=True)

    - data: input bytes to hash (same as calling update() with them).
    - key: a 32-byte key: the keyed hashing (MAC) mode.
    - derive_key_context: a hardcoded, globally unique, application-specific
      context string: the key derivation mode. Cannot be combined with key.
    - max_threads: 1, any larger number, or blake3.AUTO. Accepted for
      compatibility; hashing is single-threaded here.
    - usedforsecurity: ignored, as in the PyPI package.
    """

    name = "blake3"
    digest_size = 32
    block_size = 64
    key_size = 32
    AUTO = -1

    __slots__ = ("_algorithm", "_hasher")

    def __init__(self, data=_NO_DATA, /, *, key=None, derive_key_context=None,
                 max_threads=1, usedforsecurity=True):
        if key is not None and derive_key_context is not None:
            raise ValueError("cannot use key and derive_key_context at the same time")
        if key is not None:
            key = _contiguous(key)
            if len(key) != self.key_size:
                raise ValueError(
                    f"expected a {self.key_size}-byte key, found {len(key)}")
            algorithm = (_cap.ALGORITHM_BLAKE3_KEYED, key)
        elif derive_key_context is not None:
            if not isinstance(derive_key_context, str):
                raise TypeError("argument 'derive_key_context': expected str, got "
                                f"{type(derive_key_context).__name__}")
            algorithm = (_cap.ALGORITHM_BLAKE3_DERIVE_KEY, derive_key_context)
        else:
            algorithm = _cap.ALGORITHM_BLAKE3
        if not isinstance(max_threads, int):
            max_threads = _unsigned(max_threads, "max_threads")
        if max_threads != self.AUTO and max_threads < 1:
            raise ValueError("not a valid number of threads")
        try:
            hasher = _cap.Hasher(algorithm)
        except _WitError as exc:
            _raise(exc)
        self._algorithm = algorithm
        self._hasher = hasher
        if data is not _NO_DATA and data is not None:
            hasher.update(data)

    def update(self, data, /):
        """Add input bytes to the hasher; returns the hasher, so calls chain."""
        self._hasher.update(data)
        return self

    def update_mmap(self, path):
        """Read a file and add its bytes to the hasher (read in pieces here: there is
        no mmap in the sandbox). Returns the hasher."""
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                self._hasher.update(chunk)
        return self

    def copy(self):
        """An independent hasher with the same state."""
        other = blake3.__new__(type(self))
        other._algorithm = self._algorithm
        other._hasher = self._hasher.copy()
        return other

    def reset(self):
        """Reset to the initial empty state (in the same mode, with the same key or
        context). Data given to the constructor is not replayed."""
        try:
            fresh = _cap.Hasher(self._algorithm)
        except _WitError as exc:
            _raise(exc)
        old, self._hasher = self._hasher, fresh
        old.close()

    def digest(self, length=32, *, seek=0):
        """The hash of everything added so far, as bytes. Does not change the state.

        - length: output bytes (BLAKE3 has extendable output; shorter outputs are
          prefixes of longer ones). Defaults to 32.
        - seek: the starting position in the output stream. Defaults to 0.
        """
        length = _unsigned(length, "length")
        seek = _unsigned(seek, "seek")
        if seek:
            if seek + length > _MAX_OUTPUT:
                raise ValueError(
                    f"seek + length is too large ({seek} + {length} bytes; "
                    f"the limit here is {_MAX_OUTPUT})")
            end = seek + length
        else:
            end = length
        if end > _MAX_OUTPUT:
            raise ValueError(
                f"length is too large ({length} bytes; the limit here is {_MAX_OUTPUT})")
        try:
            out = self._hasher.digest(end)
        except _WitError as exc:
            _raise(exc)
        return out[seek:] if seek else out

    def hexdigest(self, length=32, *, seek=0):
        """Like digest(), as a string of hexadecimal digits."""
        return self.digest(length, seek=seek).hex()

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")
