"""Zstandard compression for Pylon, with the API of CPython 3.14's ``compression.zstd``.

On the 3.14 profile the stdlib's own ``compression.zstd`` works: its C module ``_zstd``
is served by Pylon's ``_zstd`` overlay over the zstd cap. This module offers the same
API on every profile (3.13 has no ``compression`` package), built the same way: the
high-level functions, enums, ``FrameInfo`` and the file object here, over the
low-level classes of ``_zstd``. The compression work happens in the zstd cap (a
separate WebAssembly component, the safe-Rust ``mzstd`` inside).

Differences from CPython 3.14, each a consequence of what the cap offers (details in
``_zstd``):

* Of the compression parameters only ``compression_level``, ``checksum_flag``,
  ``content_size_flag`` and ``dict_id_flag`` can be set; the others report bounds
  (0, 0) and accept only 0, zstd's "use the default". Of the decompression
  parameters, ``window_log_max`` is supported.
* ``train_dict`` and ``finalize_dict`` raise ``ZstdError``: the cap cannot train
  dictionaries (load one made by ``zstd --train`` with ``ZstdDict``).
* ``zstd_version`` names the zstd release the cap's encoder follows, not a libzstd.
"""

import builtins
import enum
import io
import os

import _zstd
try:  # 3.14 moved the stdlib's `_compression` into the compression package
    from compression._common import _streams
except ImportError:  # 3.13
    import _compression as _streams
from _zstd import (
    ZstdCompressor, ZstdDecompressor, ZstdDict, ZstdError, get_frame_size, zstd_version,
)

__all__ = (
    "COMPRESSION_LEVEL_DEFAULT",
    "CompressionParameter",
    "DecompressionParameter",
    "FrameInfo",
    "Strategy",
    "ZstdCompressor",
    "ZstdDecompressor",
    "ZstdDict",
    "ZstdError",
    "ZstdFile",
    "compress",
    "decompress",
    "finalize_dict",
    "get_frame_info",
    "get_frame_size",
    "open",
    "train_dict",
    "zstd_version",
    "zstd_version_info",
)

# (major, minor, release) of zstd_version; _zstd gives it as one number, MMmmrr.
zstd_version_info = (_zstd.zstd_version_number // 10000,
                     _zstd.zstd_version_number // 100 % 100,
                     _zstd.zstd_version_number % 100)

COMPRESSION_LEVEL_DEFAULT = _zstd.ZSTD_CLEVEL_DEFAULT


# --- parameters ----------------------------------------------------------------------

class CompressionParameter(enum.IntEnum):
    """Compression parameters (the keys of a compression ``options`` dict)."""

    compression_level = _zstd.ZSTD_c_compressionLevel
    window_log = _zstd.ZSTD_c_windowLog
    hash_log = _zstd.ZSTD_c_hashLog
    chain_log = _zstd.ZSTD_c_chainLog
    search_log = _zstd.ZSTD_c_searchLog
    min_match = _zstd.ZSTD_c_minMatch
    target_length = _zstd.ZSTD_c_targetLength
    strategy = _zstd.ZSTD_c_strategy
    enable_long_distance_matching = _zstd.ZSTD_c_enableLongDistanceMatching
    ldm_hash_log = _zstd.ZSTD_c_ldmHashLog
    ldm_min_match = _zstd.ZSTD_c_ldmMinMatch
    ldm_bucket_size_log = _zstd.ZSTD_c_ldmBucketSizeLog
    ldm_hash_rate_log = _zstd.ZSTD_c_ldmHashRateLog
    content_size_flag = _zstd.ZSTD_c_contentSizeFlag
    checksum_flag = _zstd.ZSTD_c_checksumFlag
    dict_id_flag = _zstd.ZSTD_c_dictIDFlag
    nb_workers = _zstd.ZSTD_c_nbWorkers
    job_size = _zstd.ZSTD_c_jobSize
    overlap_log = _zstd.ZSTD_c_overlapLog

    def bounds(self):
        """Return the (lower, upper) int bounds of a compression parameter.

        Both bounds are inclusive; (0, 0) means the cap fixes it from the level.
        """
        return _zstd.get_param_bounds(self.value, is_compress=True)


class DecompressionParameter(enum.IntEnum):
    """Decompression parameters (the keys of a decompression ``options`` dict)."""

    window_log_max = _zstd.ZSTD_d_windowLogMax

    def bounds(self):
        """Return the (lower, upper) int bounds of a decompression parameter.

        Both bounds are inclusive.
        """
        return _zstd.get_param_bounds(self.value, is_compress=False)


class Strategy(enum.IntEnum):
    """Compression strategies, from fastest to strongest (zstd's ZSTD_strategy).

    Pylon's zstd cap picks the strategy from the level; setting
    ``CompressionParameter.strategy`` to one of these raises ``ZstdError``.
    """

    fast = _zstd.ZSTD_fast
    dfast = _zstd.ZSTD_dfast
    greedy = _zstd.ZSTD_greedy
    lazy = _zstd.ZSTD_lazy
    lazy2 = _zstd.ZSTD_lazy2
    btlazy2 = _zstd.ZSTD_btlazy2
    btopt = _zstd.ZSTD_btopt
    btultra = _zstd.ZSTD_btultra
    btultra2 = _zstd.ZSTD_btultra2


# A DecompressionParameter given to a compressor (or the reverse) is then a TypeError.
_zstd.set_parameter_types(CompressionParameter, DecompressionParameter)


# --- one-shot functions --------------------------------------------------------------

def compress(data, level=None, options=None, zstd_dict=None):
    """Return data compressed as one Zstandard frame.

    level and options (exclusive) and zstd_dict are as for ZstdCompressor.
    """
    comp = ZstdCompressor(level=level, options=options, zstd_dict=zstd_dict)
    return comp.compress(data, ZstdCompressor.FLUSH_FRAME)


def decompress(data, zstd_dict=None, options=None):
    """Decompress data (one or more concatenated frames); return the joined output."""
    chunks = []
    while True:
        decomp = ZstdDecompressor(zstd_dict=zstd_dict, options=options)
        chunks.append(decomp.decompress(data))
        if not decomp.eof:
            raise ZstdError("Compressed data ended before the end-of-stream marker "
                            "was reached")
        data = decomp.unused_data
        if not data:
            return b"".join(chunks)


def train_dict(samples, dict_size):
    """Train a dictionary on samples: not available (the cap cannot train)."""
    samples = tuple(samples)
    return ZstdDict(_zstd.train_dict(b"".join(samples),
                                     tuple(len(memoryview(s)) for s in samples),
                                     dict_size))


def finalize_dict(zstd_dict, /, samples, dict_size, level):
    """Finalize a dictionary: not available (the cap cannot train)."""
    samples = tuple(samples)
    return ZstdDict(_zstd.finalize_dict(zstd_dict.dict_content, b"".join(samples),
                                        tuple(len(memoryview(s)) for s in samples),
                                        dict_size, level))


# --- frames --------------------------------------------------------------------------

class FrameInfo:
    """Information about a Zstandard frame: decompressed_size (None when the
    header does not record it) and dictionary_id (0 when it names none)."""

    __slots__ = ("decompressed_size", "dictionary_id")

    def __init__(self, decompressed_size, dictionary_id):
        object.__setattr__(self, "decompressed_size", decompressed_size)
        object.__setattr__(self, "dictionary_id", dictionary_id)

    def __setattr__(self, name, value):
        raise AttributeError(f"can't set attribute {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"can't delete attribute {name!r}")

    def __eq__(self, other):
        if not isinstance(other, FrameInfo):
            return NotImplemented
        return ((self.decompressed_size, self.dictionary_id)
                == (other.decompressed_size, other.dictionary_id))

    def __hash__(self):
        return hash((self.decompressed_size, self.dictionary_id))

    def __repr__(self):
        return (f"FrameInfo(decompressed_size={self.decompressed_size!r}, "
                f"dictionary_id={self.dictionary_id!r})")


def get_frame_info(frame_buffer):
    """Return a FrameInfo for the frame header at the start of frame_buffer.

    frame_buffer must hold at least the whole header (6 to 18 bytes).
    """
    return FrameInfo(*_zstd.get_frame_info(frame_buffer))


# --- files ---------------------------------------------------------------------------

_MODE_CLOSED = 0
_MODE_READ = 1
_MODE_WRITE = 2
_BLOCK_SIZE_MAX = 128 * 1024  # zstd's largest block


class ZstdFile(_streams.BaseStream):
    """A file object reading or writing Zstandard-compressed data.

    file: a path (str, bytes, os.PathLike) or a file object. mode: 'r'/'rb' to read
    (all frames, joined), 'w'/'wb', 'x'/'xb' or 'a'/'ab' to write. level and options
    are as for ZstdCompressor when writing; options are decompression options when
    reading.
    """

    FLUSH_BLOCK = ZstdCompressor.FLUSH_BLOCK
    FLUSH_FRAME = ZstdCompressor.FLUSH_FRAME

    def __init__(self, file, /, mode="r", *, level=None, options=None, zstd_dict=None):
        self._fp = None
        self._close_fp = False
        self._mode = _MODE_CLOSED
        self._buffer = None
        self._compressor = None

        if not isinstance(mode, str):
            raise ValueError("mode must be a str")
        if options is not None and not isinstance(options, dict):
            raise TypeError("options must be a dict or None")
        base = mode[:-1] if mode.endswith("b") else mode
        if base == "r":
            if level is not None:
                raise TypeError("level is illegal in read mode")
            ZstdDecompressor(zstd_dict=zstd_dict, options=options)  # fail early
        elif base in ("w", "a", "x"):
            if level is not None and not isinstance(level, int):
                raise TypeError("level must be int or None")
            compressor = ZstdCompressor(level=level, options=options, zstd_dict=zstd_dict)
        else:
            raise ValueError(f"Invalid mode: {mode!r}")

        if isinstance(file, (str, bytes, os.PathLike)):
            fp = builtins.open(file, base + "b")
            close_fp = True
        elif hasattr(file, "read" if base == "r" else "write"):
            fp = file
            close_fp = False
        else:
            raise TypeError("file must be a file-like object or a str, bytes, or "
                            "PathLike object")

        try:
            if base == "r":
                raw = _streams.DecompressReader(
                    fp, ZstdDecompressor, zstd_dict=zstd_dict, options=options)
                self._buffer = io.BufferedReader(raw)
                self._mode = _MODE_READ
            else:
                self._compressor = compressor
                self._pos = 0
                self._mode = _MODE_WRITE
        except BaseException:
            if close_fp:
                fp.close()
            raise
        self._fp = fp
        self._close_fp = close_fp

    # -- state

    @property
    def closed(self):
        """True if this file is closed."""
        return self._mode == _MODE_CLOSED

    @property
    def name(self):
        self._check_not_closed()
        return self._fp.name

    @property
    def mode(self):
        return "wb" if self._mode == _MODE_WRITE else "rb"

    def readable(self):
        self._check_not_closed()
        return self._mode == _MODE_READ

    def writable(self):
        self._check_not_closed()
        return self._mode == _MODE_WRITE

    def seekable(self):
        return self.readable() and self._buffer.seekable()

    def fileno(self):
        self._check_not_closed()
        return self._fp.fileno()

    def close(self):
        """Flush and close the file; closing a closed file has no effect.

        In write mode the current frame is ended. A file object passed to the
        constructor is not closed.
        """
        if self._mode == _MODE_CLOSED:
            return
        try:
            if self._mode == _MODE_READ:
                if self._buffer is not None:
                    self._buffer.close()
                    self._buffer = None
            elif self._mode == _MODE_WRITE:
                self.flush(self.FLUSH_FRAME)
                self._compressor = None
        finally:
            self._mode = _MODE_CLOSED
            try:
                if self._close_fp:
                    self._fp.close()
            finally:
                self._fp = None
                self._close_fp = False

    # -- writing

    def write(self, data, /):
        """Compress data and write it; return the number of uncompressed bytes."""
        self._check_can_write()
        if isinstance(data, (bytes, bytearray)):
            length = len(data)
        else:
            data = memoryview(data)
            length = data.nbytes
        out = self._compressor.compress(data, ZstdCompressor.CONTINUE)
        if out:
            self._fp.write(out)
        self._pos += length
        return length

    def flush(self, mode=FLUSH_BLOCK):
        """Write out what was compressed so far: the current block (FLUSH_BLOCK,
        the default) or the current frame (FLUSH_FRAME). No effect in read mode."""
        if self._mode == _MODE_READ:
            return
        self._check_not_closed()
        if mode not in (self.FLUSH_BLOCK, self.FLUSH_FRAME):
            raise ValueError("Invalid mode argument, expected either "
                             "ZstdFile.FLUSH_FRAME or ZstdFile.FLUSH_BLOCK")
        if self._compressor.last_mode == mode:
            return  # nothing compressed since the last flush of this kind
        out = self._compressor.flush(mode)
        if out:
            self._fp.write(out)
        if hasattr(self._fp, "flush"):
            self._fp.flush()

    # -- reading

    def read(self, size=-1):
        """Read up to size uncompressed bytes (all of them when size is negative)."""
        if size is None:
            size = -1
        self._check_can_read()
        return self._buffer.read(size)

    def read1(self, size=-1):
        """Read up to size uncompressed bytes with at most one read of the file."""
        self._check_can_read()
        if size < 0:
            size = _BLOCK_SIZE_MAX  # enough for a whole block of output
        return self._buffer.read1(size)

    def readinto(self, b):
        self._check_can_read()
        return self._buffer.readinto(b)

    def readinto1(self, b):
        self._check_can_read()
        return self._buffer.readinto1(b)

    def readline(self, size=-1):
        self._check_can_read()
        return self._buffer.readline(size)

    def peek(self, size=-1):
        """Return buffered data without advancing the position (at least one byte
        unless at EOF)."""
        self._check_can_read()
        return self._buffer.peek(size)

    def __next__(self):
        line = self.readline()
        if line:
            return line
        raise StopIteration

    def seek(self, offset, whence=io.SEEK_SET):
        """Change the position in the uncompressed data (read mode only; emulated,
        so it can be slow)."""
        self._check_can_read()
        return self._buffer.seek(offset, whence)

    def tell(self):
        """The current position in the uncompressed data."""
        self._check_not_closed()
        if self._mode == _MODE_READ:
            return self._buffer.tell()
        return self._pos


def open(file, /, mode="rb", *, level=None, options=None, zstd_dict=None,
         encoding=None, errors=None, newline=None):
    """Open a Zstandard-compressed file in binary or text mode.

    mode: 'r', 'rb', 'w', 'wb', 'x', 'xb', 'a', 'ab' (binary), or with 't' instead
    of 'b' for text (an io.TextIOWrapper with encoding, errors and newline).
    """
    text_mode = "t" in mode
    binary_mode = mode.replace("t", "")
    if text_mode:
        if "b" in mode:
            raise ValueError(f"Invalid mode: {mode!r}")
    else:
        if encoding is not None:
            raise ValueError("Argument 'encoding' not supported in binary mode")
        if errors is not None:
            raise ValueError("Argument 'errors' not supported in binary mode")
        if newline is not None:
            raise ValueError("Argument 'newline' not supported in binary mode")
    binary_file = ZstdFile(file, binary_mode, level=level, options=options,
                           zstd_dict=zstd_dict)
    if text_mode:
        return io.TextIOWrapper(binary_file, io.text_encoding(encoding), errors, newline)
    return binary_file
