"""lz4.block for Pylon: python-lz4's block API (``compress``, ``decompress``,
``LZ4BlockError``) over the lz4 cap's ``block`` interface.

A block is raw LZ4 data, by default prefixed with the uncompressed size as a 4-byte
little-endian integer (``store_size=True``), which ``decompress`` reads back."""

import _pylon_lz4
from lz4 import _args

__all__ = ["compress", "decompress", "LZ4BlockError"]

_cap = _pylon_lz4.block
_WitError = _pylon_lz4.WitError

_MODES = {
    "default": _cap.MODE_DEFAULT,
    "fast": _cap.MODE_FAST,
    "high_compression": _cap.MODE_HIGH_COMPRESSION,
}


class LZ4BlockError(Exception):
    """Call to LZ4 library failed."""


LZ4BlockError.__module__ = "_block"


def _check_sizes(source_len, dict_len):
    if source_len > _args._INT_MAX:
        raise OverflowError("Input too large for LZ4 API")
    if dict_len > _args._INT_MAX:
        raise OverflowError("Dictionary too large for LZ4 API")


def compress(source, mode="default", store_size=True, acceleration=1, compression=9,
             return_bytearray=False, dict=None):
    """Compresses ``source`` into one LZ4 block.

    ``mode`` is "default", "fast" (``acceleration``: higher is faster, larger) or
    "high_compression" (``compression``: the HC level, 1..12). ``store_size`` prefixes
    the uncompressed size; ``dict`` primes the compressor with a dictionary, which
    ``decompress`` must then be given too. Returns bytes (bytearray with
    ``return_bytearray``)."""
    source, source_len = _args.data(source)
    if not isinstance(mode, str):
        raise TypeError(f"compress() argument 'mode' must be str, not {type(mode).__name__}")
    store_size = bool(store_size)
    acceleration = _args.c_int(acceleration)
    compression = _args.c_int(compression)
    return_bytearray = bool(return_bytearray)
    dictionary, dict_len = _args.optional_data(dict)
    _check_sizes(source_len, dict_len)
    try:
        cap_mode = _MODES[mode]
    except KeyError:
        raise ValueError(f"Invalid mode argument: {mode}. "
                         "Must be one of: standard, fast, high_compression") from None
    try:
        block = _cap.compress(source, cap_mode, acceleration, compression, dictionary)
    except _WitError as exc:
        _raise(exc, "Compression failed")
    if store_size:
        block = source_len.to_bytes(4, "little") + block
    return _args.output(block, return_bytearray)


def decompress(source, uncompressed_size=-1, return_bytearray=False, dict=None):
    """Decompresses one LZ4 block. Without ``uncompressed_size`` the block must start
    with its size (as ``compress(store_size=True)`` writes it) and must decompress to
    exactly that; with it, it is the most the output may hold. ``dict`` is the
    dictionary the block was compressed with."""
    source, source_len = _args.data(source)
    uncompressed_size = _args.c_int(uncompressed_size)
    return_bytearray = bool(return_bytearray)
    dictionary, dict_len = _args.optional_data(dict)
    _check_sizes(source_len, dict_len)
    if uncompressed_size >= 0:
        expected = None
        capacity = uncompressed_size
        body = source
    else:
        if source_len < 4:
            raise ValueError("Input source data size too small")
        header = bytes(source[:4])
        expected = capacity = int.from_bytes(header, "little")
        body = source[4:]
        if capacity > _args._INT_MAX:
            raise ValueError(f"Invalid size: 0x{capacity}")
    try:
        result = _cap.decompress(body, capacity, dictionary)
    except _WitError as exc:
        _raise(exc, "Decompression failed: corrupt input or insufficient space in "
                    "destination buffer. Error code: {code}")
    if expected is not None and len(result) != expected:
        raise LZ4BlockError(f"Decompressor wrote {len(result)} bytes, "
                            f"but {expected} bytes expected from header")
    return _args.output(result, return_bytearray)


def _raise(exc, failed):
    """The cap's `block-error` as python-lz4's exception; `failed` is the message of
    the `failed(code)` case."""
    case, code = exc.args[0]
    if case == _cap.BLOCK_ERROR_OUT_OF_MEMORY:
        raise MemoryError from None
    raise LZ4BlockError(failed.format(code=code)) from None
