"""xxhash for Pylon: the API of the PyPI ``xxhash`` package for the algorithms the
hashing cap offers (XXH64, XXH3 64-bit, XXH3 128-bit).

Hashing happens in the hashing cap (the ``xxhash-rust`` crate), reached through the
generated ``_pylon_hashing`` extension module. Digests are big-endian (xxHash's
canonical form), as the PyPI package returns them; ``intdigest()`` is the same value
as an int.

Not provided: ``xxh32`` and its one-shot functions (the cap has no XXH32).
"""

import _pylon_hashing

_cap = _pylon_hashing.hashing
_WitError = _pylon_hashing.WitError

__all__ = [
    "xxh64", "xxh64_digest", "xxh64_intdigest", "xxh64_hexdigest",
    "xxh3_64", "xxh3_64_digest", "xxh3_64_intdigest", "xxh3_64_hexdigest",
    "xxh3_128", "xxh3_128_digest", "xxh3_128_intdigest", "xxh3_128_hexdigest",
    "xxh128", "xxh128_digest", "xxh128_intdigest", "xxh128_hexdigest",
    "VERSION", "XXHASH_VERSION", "algorithms_available", "algorithms_guaranteed",
]

# The API follows python-xxhash 3.x; the algorithms are xxHash 0.8's (XXH3 stable).
VERSION = "3.0.0+pylon"
XXHASH_VERSION = "0.8.0"

algorithms_guaranteed = {"xxh64", "xxh3_64", "xxh3_128"}
algorithms_available = set(algorithms_guaranteed)

_SEED_MASK = (1 << 64) - 1
_NO_INPUT = object()


def _data(data):
    # python-xxhash parses its input with "s*": str is hashed as its UTF-8 bytes.
    if isinstance(data, str):
        return data.encode("utf-8")
    return data


def _seed(seed):
    # "K": any int (or __index__), reduced modulo 2**64; never a float.
    if not isinstance(seed, int):
        try:
            seed = type(seed).__index__(seed)
        except AttributeError:
            raise TypeError(f"'{type(seed).__name__}' object cannot be interpreted "
                            "as an integer") from None
    return seed & _SEED_MASK


class _Hasher:
    __slots__ = ("_hasher", "_seed")

    _case = None
    name = None
    digest_size = 0
    block_size = 0

    def __init__(self, input=_NO_INPUT, seed=0):
        self._seed = _seed(seed)
        self._hasher = _cap.Hasher((self._case, self._seed))
        if input is not _NO_INPUT:
            self._hasher.update(_data(input))

    @property
    def seed(self):
        return self._seed

    @property
    def digestsize(self):
        return self.digest_size

    def update(self, input):
        """Update the hash object with the bytes (or str, as UTF-8) in input. Repeated
        calls are equivalent to a single call with the concatenation of all the
        arguments."""
        self._hasher.update(_data(input))

    def digest(self):
        """The digest of the data passed to update() so far, as bytes (big-endian)."""
        return self._hasher.digest(None)

    def hexdigest(self):
        """Like digest(), as a string of hexadecimal digits."""
        return self._hasher.digest(None).hex()

    def intdigest(self):
        """Like digest(), as an unsigned int."""
        return int.from_bytes(self._hasher.digest(None), "big")

    def copy(self):
        """An independent copy of the hash object."""
        other = object.__new__(type(self))
        other._seed = self._seed
        other._hasher = self._hasher.copy()
        return other

    def reset(self):
        """Reset the state to that of a new object with the same seed (data given to
        the constructor is not replayed)."""
        old, self._hasher = self._hasher, _cap.Hasher((self._case, self._seed))
        old.close()

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


class xxh64(_Hasher):
    """xxh64(input=b'', seed=0): an XXH64 hash object."""
    __slots__ = ()
    _case = _cap.ALGORITHM_XXH64
    name = "XXH64"
    digest_size = 8
    block_size = 32


class xxh3_64(_Hasher):
    """xxh3_64(input=b'', seed=0): an XXH3 64-bit hash object."""
    __slots__ = ()
    _case = _cap.ALGORITHM_XXH3_64
    name = "XXH3_64"
    digest_size = 8
    block_size = 32


class xxh3_128(_Hasher):
    """xxh3_128(input=b'', seed=0): an XXH3 128-bit hash object."""
    __slots__ = ()
    _case = _cap.ALGORITHM_XXH3_128
    name = "XXH3_128"
    digest_size = 16
    block_size = 64


xxh128 = xxh3_128


def _oneshot(case, label):
    def digest(input, seed=0):
        return _cap.hash((case, _seed(seed)), _data(input), None)

    def intdigest(input, seed=0):
        return int.from_bytes(digest(input, seed), "big")

    def hexdigest(input, seed=0):
        return digest(input, seed).hex()

    for f, what in ((digest, "bytes (big-endian)"), (intdigest, "an unsigned int"),
                    (hexdigest, "a hex string")):
        f.__name__ = f.__qualname__ = f"{label}_{f.__name__}"
        f.__module__ = __name__
        f.__doc__ = f"{f.__name__}(input, seed=0): the {label} hash of input as {what}."
    return digest, intdigest, hexdigest


xxh64_digest, xxh64_intdigest, xxh64_hexdigest = _oneshot(_cap.ALGORITHM_XXH64, "xxh64")
xxh3_64_digest, xxh3_64_intdigest, xxh3_64_hexdigest = _oneshot(
    _cap.ALGORITHM_XXH3_64, "xxh3_64")
xxh3_128_digest, xxh3_128_intdigest, xxh3_128_hexdigest = _oneshot(
    _cap.ALGORITHM_XXH3_128, "xxh3_128")
xxh128_digest = xxh3_128_digest
xxh128_intdigest = xxh3_128_intdigest
xxh128_hexdigest = xxh3_128_hexdigest

del _oneshot
