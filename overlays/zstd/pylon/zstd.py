"""Zstandard compression for Pylon, with the API of CPython 3.14's ``compression.zstd``.

The compression work happens in the zstd cap (a separate WebAssembly component, the
safe-Rust ``mzstd`` inside), reached through the generated ``_pylon_zstd`` extension
module. This module only maps PEP 784's API onto the cap: argument checking, the
``options`` dictionaries, ``ZstdDict`` and its three usages, exceptions, and the file
object (``ZstdFile``/``open``) built on the streaming classes.

Differences from CPython 3.14, each a consequence of what the cap offers:

* Of the compression parameters only ``compression_level``, ``checksum_flag``,
  ``content_size_flag`` and ``dict_id_flag`` can be set; of the decompression
  parameters, ``window_log_max``. Any other parameter is accepted only with the value
  0 (zstd's "use the default"), and raises ``ZstdError`` naming it otherwise. Their
  ``bounds()`` raise ``ZstdError`` too.
* ``train_dict``, ``finalize_dict``, ``zstd_version`` and ``zstd_version_info`` are
  not provided: the cap can neither train dictionaries nor report a library version
  (it is not libzstd).
* ``as_digested_dict`` and ``as_undigested_dict`` are accepted and behave the same
  (the difference is a libzstd speed trade-off); ``as_prefix`` uses the content as raw
  history, as libzstd's prefixes do.
"""

import builtins
import enum
import io
import operator
import os

import _compression
import _pylon_zstd

_cap = _pylon_zstd.zstd
_WitError = _pylon_zstd.WitError

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
    "get_frame_info",
    "get_frame_size",
    "open",
)


class ZstdError(Exception):
    """An error occurred in the zstd library."""


# --- errors ------------------------------------------------------------------------

def _exception(witerror, default=None):
    """The exception CPython 3.14 raises for the cap's `error` record."""
    failure = witerror.args[0]
    kind = failure.kind
    if default is not None:
        cls = default
    elif kind == _cap.ERROR_KIND_INVALID_ARGUMENT:
        cls = ValueError
    elif kind == _cap.ERROR_KIND_ALREADY_FINISHED:
        cls = EOFError
    else:  # corrupt data, dictionary, memory limit, wrong input size, internal
        cls = ZstdError
    return cls(failure.message)


# --- levels and parameters -----------------------------------------------------------

_LEVELS = _cap.level_bounds()
COMPRESSION_LEVEL_DEFAULT = _LEVELS.default_level

_INT_MIN = -(1 << 31)
_INT_MAX = (1 << 31) - 1


def _c_int(value, what):
    # libzstd takes parameters as C ints; CPython turns an overflow into ValueError.
    value = operator.index(value)
    if not _INT_MIN <= value <= _INT_MAX:
        raise ValueError(f"{what} must be a 32-bit signed integer, got {value}")
    return value


def _level(level):
    try:
        return _c_int(level, "compression level")
    except ValueError:
        raise ValueError(
            "illegal compression level; the valid range is "
            f"[{_LEVELS.min}, {_LEVELS.max}]") from None


class Strategy(enum.IntEnum):
    """Compression strategies, from fastest to strongest (zstd's ZSTD_strategy).

    Pylon's zstd cap picks the strategy from the level; setting
    ``CompressionParameter.strategy`` to one of these raises ``ZstdError``.
    """

    fast = 1
    dfast = 2
    greedy = 3
    lazy = 4
    lazy2 = 5
    btlazy2 = 6
    btopt = 7
    btultra = 8
    btultra2 = 9


class CompressionParameter(enum.IntEnum):
    """Compression parameters (the keys of a compression ``options`` dict)."""

    compression_level = 100
    window_log = 101
    hash_log = 102
    chain_log = 103
    search_log = 104
    min_match = 105
    target_length = 106
    strategy = 107
    enable_long_distance_matching = 160
    ldm_hash_log = 161
    ldm_min_match = 162
    ldm_bucket_size_log = 163
    ldm_hash_rate_log = 164
    content_size_flag = 200
    checksum_flag = 201
    dict_id_flag = 202
    nb_workers = 400
    job_size = 401
    overlap_log = 402

    def bounds(self):
        """Return the (lower, upper) int bounds of a compression parameter.

        Both bounds are inclusive.
        """
        if self is CompressionParameter.compression_level:
            return (_LEVELS.min, _LEVELS.max)
        if self in _FLAGS:
            return (0, 1)
        raise _unsupported(self, "compression")


class DecompressionParameter(enum.IntEnum):
    """Decompression parameters (the keys of a decompression ``options`` dict)."""

    window_log_max = 100

    def bounds(self):
        """Return the (lower, upper) int bounds of a decompression parameter.

        Both bounds are inclusive.
        """
        return (_WINDOW_LOG_MIN, _WINDOW_LOG_MAX)


_FLAGS = {
    CompressionParameter.checksum_flag: "checksum",
    CompressionParameter.content_size_flag: "content_size",
    CompressionParameter.dict_id_flag: "dictionary_id",
}
_WINDOW_LOG_MIN, _WINDOW_LOG_MAX = 10, 31


def _unsupported(param, kind):
    return ZstdError(
        f"zstd {kind} parameter {param.name!r} is not supported by Pylon's zstd cap "
        "(only the value 0, zstd's default, is accepted)")


def _compress_options(level, options):
    """`level`/`options` as the cap's compress-options record (a tuple)."""
    if level is not None and options is not None:
        raise TypeError("Only one of level or options should be used.")
    settings = {"level": 0, "checksum": False, "content_size": True, "dictionary_id": True}
    if level is not None:
        settings["level"] = _level(level)
    elif options is not None:
        if not isinstance(options, dict):
            raise TypeError(
                f"options must be a dict or None, not {type(options).__name__}")
        for key, value in options.items():
            if isinstance(key, DecompressionParameter):
                raise TypeError("compression options dictionary key must not be a "
                                "DecompressionParameter attribute")
            key = _c_int(key, "compression options dictionary key")
            try:
                param = CompressionParameter(key)
            except ValueError:
                raise ZstdError(f"invalid zstd compression parameter {key}") from None
            value = _c_int(value, f"value of compression parameter {param.name!r}")
            if param is CompressionParameter.compression_level:
                settings["level"] = value  # clamped by the cap, as libzstd does
            elif param in _FLAGS:
                settings[_FLAGS[param]] = value != 0  # as libzstd reads its flags
            elif value != 0:
                raise _unsupported(param, "compression")
    return (settings["level"], settings["checksum"], settings["content_size"],
            settings["dictionary_id"])


def _window_log_max(options):
    """`options` of a decompressor as the cap's `window-log-max` (None: default)."""
    if options is None:
        return None
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict or None, not {type(options).__name__}")
    window_log_max = None
    for key, value in options.items():
        if isinstance(key, CompressionParameter):
            raise TypeError("decompression options dictionary key must not be a "
                            "CompressionParameter attribute")
        key = _c_int(key, "decompression options dictionary key")
        try:
            param = DecompressionParameter(key)
        except ValueError:
            raise ZstdError(f"invalid zstd decompression parameter {key}") from None
        value = _c_int(value, f"value of decompression parameter {param.name!r}")
        if value == 0:
            window_log_max = None  # zstd's default
        elif _WINDOW_LOG_MIN <= value <= _WINDOW_LOG_MAX:
            window_log_max = value
        else:
            raise ZstdError(
                f"invalid value {value} for zstd decompression parameter "
                f"{param.name!r}: it must be 0 (the default) or between "
                f"{_WINDOW_LOG_MIN} and {_WINDOW_LOG_MAX}")
    return window_log_max


# --- dictionaries --------------------------------------------------------------------

_DICT_TYPE_DIGESTED = 0
_DICT_TYPE_UNDIGESTED = 1
_DICT_TYPE_PREFIX = 2


class ZstdDict:
    """A Zstandard dictionary, for compress/decompress and their classes.

    ``dict_content`` is a zstd-format dictionary (as made by ``zstd --train``), or any
    bytes when ``is_raw`` is true: "raw content" that frames may refer back to.
    """

    __slots__ = ("_content", "_is_raw", "_dict_id", "__weakref__")

    def __init__(self, dict_content, /, *, is_raw=False):
        content = bytes(dict_content)
        if len(content) < 8:
            raise ValueError("Zstandard dictionary content must be at least eight bytes long")
        dict_id = 0 if is_raw else _cap.dictionary_id(content)
        if not is_raw and dict_id == 0:
            raise ValueError("invalid Zstandard dictionary (pass is_raw=True to use "
                             "these bytes as raw content)")
        self._content = content
        self._is_raw = bool(is_raw)
        self._dict_id = dict_id

    @property
    def dict_content(self):
        """The content of the Zstandard dictionary, a bytes object."""
        return self._content

    @property
    def dict_id(self):
        """The dictionary's ID; 0 for a "raw content" dictionary."""
        return self._dict_id

    @property
    def as_digested_dict(self):
        """Use this dictionary as a digested dictionary (zstd's default usage)."""
        return (self, _DICT_TYPE_DIGESTED)

    @property
    def as_undigested_dict(self):
        """Use this dictionary as an undigested dictionary."""
        return (self, _DICT_TYPE_UNDIGESTED)

    @property
    def as_prefix(self):
        """Use the dictionary content as a prefix (raw history, for one frame)."""
        return (self, _DICT_TYPE_PREFIX)

    def __len__(self):
        return len(self._content)

    def __repr__(self):
        return f"<ZstdDict dict_id={self._dict_id} dict_size={len(self._content)}>"

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


def _cap_dict(zstd_dict):
    """A ZstdDict (or one of its as_* usages) as the cap's `dictionary` record."""
    if zstd_dict is None:
        return None
    if isinstance(zstd_dict, ZstdDict):
        d, usage = zstd_dict, _DICT_TYPE_DIGESTED
    elif (isinstance(zstd_dict, tuple) and len(zstd_dict) == 2
          and isinstance(zstd_dict[0], ZstdDict)
          and zstd_dict[1] in (_DICT_TYPE_DIGESTED, _DICT_TYPE_UNDIGESTED,
                               _DICT_TYPE_PREFIX)):
        d, usage = zstd_dict
    else:
        raise TypeError("zstd_dict argument should be a ZstdDict object.")
    return (d._content, d._is_raw or usage == _DICT_TYPE_PREFIX)


# --- streaming classes ---------------------------------------------------------------

class ZstdCompressor:
    """Create a compressor object for compressing data incrementally.

    level: the compression level (int); options: a dict of CompressionParameter to
    int (exclusive with level); zstd_dict: a ZstdDict or one of its as_* usages.
    """

    CONTINUE = 0
    FLUSH_BLOCK = 1
    FLUSH_FRAME = 2

    _TO_CAP = {
        CONTINUE: _cap.END_DIRECTIVE_CONTINUE,
        FLUSH_BLOCK: _cap.END_DIRECTIVE_FLUSH_BLOCK,
        FLUSH_FRAME: _cap.END_DIRECTIVE_FLUSH_FRAME,
    }
    _FROM_CAP = {v: k for k, v in _TO_CAP.items()}

    def __init__(self, level=None, options=None, zstd_dict=None):
        cap_options = _compress_options(level, options)
        cap_dict = _cap_dict(zstd_dict)
        try:
            self._stream = _cap.Compressor.create(cap_options, cap_dict)
        except _WitError as exc:
            raise _exception(exc) from None

    def compress(self, data, mode=CONTINUE):
        """Compress data, ending the call as mode says; return what was produced.

        mode: ZstdCompressor.CONTINUE (buffer, output only whole blocks),
        FLUSH_BLOCK (everything so far becomes decodable) or FLUSH_FRAME (end the
        frame; the next data starts a new one).
        """
        cap_mode = self._TO_CAP.get(mode) if isinstance(mode, int) else None
        if cap_mode is None:
            raise ValueError("mode argument wasn't ZstdCompressor.CONTINUE, "
                             "ZstdCompressor.FLUSH_BLOCK or ZstdCompressor.FLUSH_FRAME")
        try:
            return self._stream.compress(data, cap_mode)
        except _WitError as exc:
            raise _exception(exc) from None

    def flush(self, mode=FLUSH_FRAME):
        """Finish the current block (FLUSH_BLOCK) or frame (FLUSH_FRAME)."""
        if mode not in (self.FLUSH_BLOCK, self.FLUSH_FRAME) or not isinstance(mode, int):
            raise ValueError("mode argument wasn't ZstdCompressor.FLUSH_BLOCK or "
                             "ZstdCompressor.FLUSH_FRAME")
        try:
            return self._stream.flush(self._TO_CAP[mode])
        except _WitError as exc:
            raise _exception(exc) from None

    def set_pledged_input_size(self, size):
        """Announce the size of the next frame's input (None: unknown).

        The size is written into the frame header and checked when the frame ends.
        Only valid between frames (when last_mode is FLUSH_FRAME).
        """
        if size is not None:
            size = operator.index(size)
            if not 0 <= size < (1 << 64) - 1:
                raise ValueError("size argument should be a non-negative int less "
                                 "than 18446744073709551615")
        if self.last_mode != self.FLUSH_FRAME:
            raise ValueError("set_pledged_input_size() method must be called "
                             "when last_mode == FLUSH_FRAME")
        try:
            self._stream.set_pledged_input_size(size)
        except _WitError as exc:
            raise _exception(exc) from None

    @property
    def last_mode(self):
        """The mode of the last compress()/flush() call; FLUSH_FRAME when new."""
        return self._FROM_CAP[self._stream.last_mode()]

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


class ZstdDecompressor:
    """Create a decompressor object for decompressing one frame incrementally.

    zstd_dict: a ZstdDict or one of its as_* usages; options: a dict of
    DecompressionParameter to int. Data after the end of the frame is kept in
    unused_data; decompress every frame with decompress() or a new object per frame.
    """

    def __init__(self, zstd_dict=None, options=None):
        window_log_max = _window_log_max(options)
        cap_dict = _cap_dict(zstd_dict)
        try:
            self._stream = _cap.Decompressor.create(cap_dict, window_log_max)
        except _WitError as exc:
            raise _exception(exc) from None

    def decompress(self, data, max_length=-1):
        """Decompress data, returning at most max_length bytes (all when negative).

        Input that could not be processed because of max_length is kept and used by
        the next call (needs_input is then False). After the end of the frame,
        EOFError is raised.
        """
        max_length = operator.index(max_length)
        limit = max_length if 0 <= max_length < (1 << 64) else None
        try:
            return self._stream.decompress(data, limit)
        except _WitError as exc:
            raise _exception(exc) from None

    @property
    def eof(self):
        """True once the end of the frame has been reached."""
        return self._stream.eof()

    @property
    def unused_data(self):
        """Data found after the end of the frame; b'' before then."""
        return self._stream.unused_data()

    @property
    def needs_input(self):
        """False if decompress() can return more data without new input."""
        return self._stream.needs_input()

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


# --- one-shot functions --------------------------------------------------------------

def compress(data, level=None, options=None, zstd_dict=None):
    """Return data compressed as one Zstandard frame.

    level and options (exclusive) and zstd_dict are as for ZstdCompressor.
    """
    if options is None:
        lvl = 0 if level is None else _level(level)
        cap_dict = _cap_dict(zstd_dict)
        try:
            return _cap.compress(data, lvl, cap_dict)
        except _WitError as exc:
            raise _exception(exc) from None
    comp = ZstdCompressor(level=level, options=options, zstd_dict=zstd_dict)
    return comp.compress(data, ZstdCompressor.FLUSH_FRAME)


def decompress(data, zstd_dict=None, options=None):
    """Decompress data (one or more concatenated frames); return the joined output."""
    if options is None:
        cap_dict = _cap_dict(zstd_dict)
        try:
            return _cap.decompress(data, cap_dict)
        except _WitError as exc:
            raise _exception(exc) from None
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
    try:
        params = _cap.frame_info(frame_buffer)
    except _WitError as exc:
        raise _exception(exc, ZstdError) from None
    return FrameInfo(params.content_size, params.dictionary_id)


def get_frame_size(frame_buffer):
    """Return the size of the complete frame at the start of frame_buffer,
    including its header and checksum."""
    try:
        return _cap.frame_size(frame_buffer)
    except _WitError as exc:
        raise _exception(exc, ZstdError) from None


# --- files ---------------------------------------------------------------------------

_MODE_CLOSED = 0
_MODE_READ = 1
_MODE_WRITE = 2
_BLOCK_SIZE_MAX = 128 * 1024  # zstd's largest block


class ZstdFile(_compression.BaseStream):
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
            _window_log_max(options)  # fail early on bad options
            _cap_dict(zstd_dict)
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
                raw = _compression.DecompressReader(
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
