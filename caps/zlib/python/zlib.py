"""zlib for Pylon: CPython's ``zlib`` module API, served by the zlib cap.

The compressed-data work happens in the zlib cap (a separate WebAssembly component,
zlib-rs inside), reached through the generated ``_pylon_zlib`` extension module. This
overlay only does what CPython's ``zlibmodule.c`` does in its argument handling: default
values, integer constants, the exception mapping, and the ``_ZlibDecompressor`` that
``gzip`` uses. Behaviour and messages follow CPython 3.13.
"""

import _operator

import _pylon_runtime as _rt
import _pylon_zlib

_cap = _pylon_zlib.zlib
_WitError = _pylon_zlib.WitError

__all__ = [
    "adler32", "compress", "compressobj", "crc32", "decompress", "decompressobj",
    "error", "DEFLATED", "DEF_BUF_SIZE", "DEF_MEM_LEVEL", "MAX_WBITS",
    "ZLIB_RUNTIME_VERSION", "ZLIB_VERSION",
    "Z_BEST_COMPRESSION", "Z_BEST_SPEED", "Z_BLOCK", "Z_DEFAULT_COMPRESSION",
    "Z_DEFAULT_STRATEGY", "Z_FILTERED", "Z_FINISH", "Z_FIXED", "Z_FULL_FLUSH",
    "Z_HUFFMAN_ONLY", "Z_NO_COMPRESSION", "Z_NO_FLUSH", "Z_PARTIAL_FLUSH", "Z_RLE",
    "Z_SYNC_FLUSH", "Z_TREES",
]


class error(Exception):
    pass


MAX_WBITS = 15
DEFLATED = 8
DEF_MEM_LEVEL = 8
DEF_BUF_SIZE = 16384

Z_NO_COMPRESSION = 0
Z_BEST_SPEED = 1
Z_BEST_COMPRESSION = 9
Z_DEFAULT_COMPRESSION = -1

Z_FILTERED = 1
Z_HUFFMAN_ONLY = 2
Z_RLE = 3
Z_FIXED = 4
Z_DEFAULT_STRATEGY = 0

Z_NO_FLUSH = 0
Z_PARTIAL_FLUSH = 1
Z_SYNC_FLUSH = 2
Z_FULL_FLUSH = 3
Z_FINISH = 4
Z_BLOCK = 5
Z_TREES = 6

ZLIB_RUNTIME_VERSION = _cap.version()
ZLIB_VERSION = ZLIB_RUNTIME_VERSION

# The cap's `error-kind` enum, by case index.
_EXCEPTIONS = {
    _cap.ERROR_KIND_ZLIB: error,
    _cap.ERROR_KIND_VALUE: ValueError,
    _cap.ERROR_KIND_MEMORY: MemoryError,
}


def _raise(exc):
    """Re-raise the cap's `error` record as the exception CPython raises."""
    _rt.raise_error(exc, _EXCEPTIONS, error)


def _index(value):
    # zlibmodule.c takes these as C ints: any object with __index__, never a float or
    # a str (TypeError, as from the C argument parser).
    return _operator.index(value)


_ssize = _rt.ssize


def _not_instantiable(cls):
    """The C types behind compressobj()/decompressobj() cannot be created directly
    (bpo-43916); this module makes its objects with object.__new__."""
    def __new__(cls_, *args, **kwargs):
        raise TypeError(f"cannot create '{cls_.__module__}.{cls_.__qualname__}' instances")
    cls.__new__ = __new__
    return cls


def _unpicklable(self, protocol=None):
    raise TypeError(f"cannot pickle '{type(self).__module__}.{type(self).__qualname__}' object")


def crc32(data, value=0, /):
    """Compute a CRC-32 checksum of data, starting from value."""
    return _cap.crc32(data, _index(value) & 0xFFFFFFFF)


def adler32(data, value=1, /):
    """Compute an Adler-32 checksum of data, starting from value."""
    return _cap.adler32(data, _index(value) & 0xFFFFFFFF)


def compress(data, /, level=Z_DEFAULT_COMPRESSION, wbits=MAX_WBITS):
    """Returns a bytes object containing compressed data."""
    try:
        return _cap.compress(data, _index(level), _index(wbits))
    except _WitError as exc:
        _raise(exc)


def decompress(data, /, wbits=MAX_WBITS, bufsize=DEF_BUF_SIZE):
    """Returns a bytes object containing the uncompressed data."""
    try:
        return _cap.decompress(data, _index(wbits), _ssize(bufsize))
    except _WitError as exc:
        _raise(exc)


def _zdict(zdict):
    if zdict is None:
        return None
    try:
        return memoryview(zdict)
    except TypeError:
        raise TypeError("zdict argument must support the buffer protocol") from None


@_not_instantiable
class Compress:
    """A compression object, as returned by compressobj()."""

    __slots__ = ("_stream",)

    @classmethod
    def _wrap(cls, stream):
        self = object.__new__(cls)
        self._stream = stream
        return self

    __reduce_ex__ = _unpicklable

    def compress(self, data, /):
        try:
            return self._stream.compress(data)
        except _WitError as exc:
            _raise(exc)

    def flush(self, mode=Z_FINISH, /):
        mode = _index(mode)
        if mode == Z_NO_FLUSH:
            return b""
        if not Z_NO_FLUSH <= mode <= Z_BLOCK:
            raise error("Error -2 while flushing: inconsistent stream state")
        try:
            return self._stream.flush(mode)
        except _WitError as exc:
            _raise(exc)

    def copy(self):
        try:
            return Compress._wrap(self._stream.copy())
        except _WitError as exc:
            _raise(exc)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()


@_not_instantiable
class Decompress:
    """A decompression object, as returned by decompressobj()."""

    __slots__ = ("_stream",)

    @classmethod
    def _wrap(cls, stream):
        self = object.__new__(cls)
        self._stream = stream
        return self

    __reduce_ex__ = _unpicklable

    @property
    def unused_data(self):
        return self._stream.unused_data()

    @property
    def unconsumed_tail(self):
        return self._stream.unconsumed_tail()

    @property
    def eof(self):
        return self._stream.eof()

    def decompress(self, data, /, max_length=0):
        try:
            return self._stream.decompress(data, _ssize(max_length))
        except _WitError as exc:
            _raise(exc)

    def flush(self, length=DEF_BUF_SIZE, /):
        try:
            return self._stream.flush(_ssize(length))
        except _WitError as exc:
            _raise(exc)

    def copy(self):
        try:
            return Decompress._wrap(self._stream.copy())
        except _WitError as exc:
            _raise(exc)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()


def compressobj(level=Z_DEFAULT_COMPRESSION, method=DEFLATED, wbits=MAX_WBITS,
                memLevel=DEF_MEM_LEVEL, strategy=Z_DEFAULT_STRATEGY, zdict=None):
    """Return a compressor object."""
    strategy = _index(strategy)
    if not Z_DEFAULT_STRATEGY <= strategy <= Z_FIXED:
        raise ValueError("Invalid initialization option")
    try:
        stream = _cap.Compressor.create(
            _index(level), _index(method), _index(wbits), _index(memLevel),
            strategy, _zdict(zdict))
    except _WitError as exc:
        _raise(exc)
    return Compress._wrap(stream)


def decompressobj(wbits=MAX_WBITS, zdict=None):
    """Return a decompressor object."""
    try:
        stream = _cap.Decompressor.create(_index(wbits), _zdict(zdict))
    except _WitError as exc:
        _raise(exc)
    return Decompress._wrap(stream)


class _ZlibDecompressor:
    """One-shot streaming decompressor with bz2/lzma semantics (used by gzip).

    Input that did not fit under ``max_length`` is kept here and fed back in
    on the next call, which is what ``needs_input`` reports.
    """

    __reduce_ex__ = _unpicklable

    def __init__(self, wbits=MAX_WBITS, zdict=None):
        self._stream = decompressobj(wbits, zdict)
        self._pending = b""
        self.eof = False
        self.unused_data = b""
        self.needs_input = True

    def decompress(self, data, max_length=-1):
        if self.eof:
            raise EOFError("End of stream already reached")
        max_length = _ssize(max_length)
        data = self._pending + bytes(data) if self._pending else data
        if max_length == 0:
            self._pending = bytes(data)
            self.needs_input = not self._pending
            return b""
        out = self._stream.decompress(data, max_length if max_length > 0 else 0)
        if self._stream.eof:
            self.eof = True
            self.needs_input = False
            self.unused_data = self._stream.unused_data
            self._pending = b""
        else:
            self._pending = self._stream.unconsumed_tail
            limited = 0 < max_length <= len(out)
            self.needs_input = not self._pending and not limited
        return out
