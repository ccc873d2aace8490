"""lz4.frame for Pylon: python-lz4's frame API over the lz4 cap's ``frame`` interface.

An LZ4 frame is the self-describing format of ``.lz4`` files (and of the ``lz4`` command
line tool): a header, blocks, an end mark, optional checksums. This module has
python-lz4's three layers: one-shot ``compress``/``decompress``; the context functions
(``create_compression_context``, ``compress_begin``/``compress_chunk``/
``compress_flush``, ``decompress_chunk``, ``get_frame_info``); and the classes
``LZ4FrameCompressor``, ``LZ4FrameDecompressor`` and ``LZ4FrameFile`` with ``open``.
"""

import builtins
import io
import os

import _pylon_lz4
from lz4 import _args

try:
    import compression._common._streams as _compression  # 3.14
except ImportError:
    import _compression  # 3.13

_cap = _pylon_lz4.frame
_WitError = _pylon_lz4.WitError

__all__ = [
    "compress", "decompress", "create_compression_context", "compress_begin",
    "compress_chunk", "compress_flush", "create_decompression_context",
    "reset_decompression_context", "decompress_chunk", "get_frame_info",
    "LZ4FrameCompressor", "LZ4FrameDecompressor", "LZ4FrameFile", "open",
    "BLOCKSIZE_DEFAULT", "BLOCKSIZE_MAX64KB", "BLOCKSIZE_MAX256KB", "BLOCKSIZE_MAX1MB",
    "BLOCKSIZE_MAX4MB", "COMPRESSIONLEVEL_MIN", "COMPRESSIONLEVEL_MINHC",
    "COMPRESSIONLEVEL_MAX",
]

#: The library's default block size (64 KiB).
BLOCKSIZE_DEFAULT = 0
#: Blocks of at most 64 KiB, 256 KiB, 1 MiB, 4 MiB of uncompressed data.
BLOCKSIZE_MAX64KB = 4
BLOCKSIZE_MAX256KB = 5
BLOCKSIZE_MAX1MB = 6
BLOCKSIZE_MAX4MB = 7

#: Fast compression, the default (0, 1 and 2 are the same).
COMPRESSIONLEVEL_MIN = 0
#: The lowest level that uses LZ4 HC.
COMPRESSIONLEVEL_MINHC = 3
#: The highest level (higher values count as 16).
COMPRESSIONLEVEL_MAX = 16


def _raise(exc):
    """The cap's `frame-error` as python-lz4's exception."""
    case, payload = exc.args[0]
    if case == _cap.FRAME_ERROR_OUT_OF_MEMORY:
        raise MemoryError from None
    if case == _cap.FRAME_ERROR_INCOMPLETE:
        raise RuntimeError(f"Frame incomplete. LZ4F_decompress returned: {payload}") from None
    if not payload.function:
        raise RuntimeError(payload.name) from None
    raise RuntimeError(f"{payload.function} failed with code: {payload.name}") from None


def _preferences(compression_level, block_size, content_checksum, block_checksum,
                 block_linked, auto_flush, content_size):
    # The cap's `preferences` record, in field order.
    return (_args.c_int(compression_level), _args.c_int(block_size) & 0xFFFFFFFF,
            bool(block_linked), bool(content_checksum), bool(block_checksum),
            bool(auto_flush), content_size)


# --- one-shot -------------------------------------------------------------------------

def compress(data, compression_level=0, block_size=BLOCKSIZE_DEFAULT, content_checksum=False,
             block_checksum=False, block_linked=True, store_size=True,
             return_bytearray=False):
    """Compresses ``data`` into one complete frame (header, blocks, end mark), ready to
    be written to a ``.lz4`` file. ``store_size`` writes the uncompressed size into the
    header."""
    data, length = _args.data(data)
    prefs = _preferences(compression_level, block_size, content_checksum, block_checksum,
                         block_linked, False, length if store_size else 0)
    try:
        frame = _cap.compress_frame(data, prefs)
    except _WitError as exc:
        _raise(exc)
    return _args.output(frame, return_bytearray)


def decompress(data, return_bytearray=False, return_bytes_read=False):
    """Decompresses the frame at the start of ``data``, which must be complete. With
    ``return_bytes_read``, returns ``(data, bytes_read)``: where the frame ended."""
    data, _ = _args.data(data)
    decompressor = _cap.Decompressor()
    try:
        result = decompressor.decompress(data, -1, True)
    except _WitError as exc:
        _raise(exc)
    finally:
        decompressor.close()
    out = _args.output(result.data, return_bytearray)
    if return_bytes_read:
        return out, result.consumed
    return out


def get_frame_info(frame):
    """What the header at the start of ``frame`` says: a dict with ``block_size``,
    ``block_size_id``, ``block_linked``, ``content_checksum``, ``block_checksum``,
    ``skippable`` and ``content_size``."""
    frame, _ = _args.data(frame)
    try:
        info = _cap.get_frame_info(frame)
    except _WitError as exc:
        _raise(exc)
    return {
        "block_size": info.block_size,
        "block_size_id": info.block_size_id,
        "block_linked": info.block_linked,
        "content_checksum": info.content_checksum,
        "block_checksum": info.block_checksum,
        "skippable": info.skippable,
        "content_size": info.content_size,
    }


# --- contexts ---------------------------------------------------------------------------

class _CompressionContext:
    """What ``create_compression_context`` returns (python-lz4: a capsule)."""

    __slots__ = ("_compressor", "__weakref__")

    def __init__(self):
        self._compressor = _cap.Compressor()


class _DecompressionContext:
    """What ``create_decompression_context`` returns (python-lz4: a capsule)."""

    __slots__ = ("_decompressor", "__weakref__")

    def __init__(self):
        self._decompressor = _cap.Decompressor()


def _compressor_of(context, message):
    if not isinstance(context, _CompressionContext):
        raise ValueError(message)
    return context._compressor


def _decompressor_of(context):
    if not isinstance(context, _DecompressionContext):
        raise ValueError("No valid decompression context supplied")
    return context._decompressor


def create_compression_context():
    """A compression context for ``compress_begin``, ``compress_chunk`` and
    ``compress_flush``."""
    return _CompressionContext()


def compress_begin(context, source_size=0, compression_level=0,
                   block_size=BLOCKSIZE_DEFAULT, content_checksum=False,
                   block_checksum=False, block_linked=True, auto_flush=False,
                   return_bytearray=False):
    """Begins a frame in ``context``; returns its header. ``source_size`` (if not 0)
    is written into the header as the uncompressed size; ``auto_flush`` makes every
    ``compress_chunk`` return all of its data compressed instead of buffering up to a
    block."""
    compressor = _compressor_of(context, "No valid compression context supplied")
    prefs = _preferences(compression_level, block_size, content_checksum, block_checksum,
                         block_linked, auto_flush, _args.unsigned_long(source_size))
    try:
        header = compressor.begin(prefs)
    except _WitError as exc:
        _raise(exc)
    return _args.output(header, return_bytearray)


def compress_chunk(context, data, return_bytearray=False):
    """Compresses ``data`` as part of the frame begun in ``context``; returns what is
    complete so far (may be empty: data is buffered up to a block unless
    ``auto_flush``)."""
    compressor = _compressor_of(context, "No compression context supplied")
    data, _ = _args.data(data)
    try:
        out = compressor.update(data)
    except _WitError as exc:
        _raise(exc)
    return _args.output(out, return_bytearray)


def compress_flush(context, end_frame=True, return_bytearray=False):
    """Returns the buffered data compressed; with ``end_frame`` (the default) also the
    end mark and content checksum, which completes the frame."""
    compressor = _compressor_of(context, "No compression context supplied")
    try:
        out = compressor.flush(bool(end_frame))
    except _WitError as exc:
        case, payload = exc.args[0]
        if case == _cap.FRAME_ERROR_LIBRARY:
            # python-lz4 names LZ4F_compressEnd whichever of the two calls failed.
            raise RuntimeError(f"LZ4F_compressEnd failed with code: {payload.name}") from None
        _raise(exc)
    return _args.output(out, return_bytearray)


def create_decompression_context():
    """A decompression context for ``decompress_chunk``."""
    return _DecompressionContext()


def reset_decompression_context(context):
    """Makes ``context`` ready for a new frame, dropping any partial one."""
    _decompressor_of(context).reset()


def decompress_chunk(context, data, max_length=-1, return_bytearray=False):
    """Decompresses what it can of ``data`` in ``context`` (at most ``max_length``
    bytes when it is >= 0). Returns ``(decompressed, bytes_read, end_of_frame)``;
    input beyond ``bytes_read`` is the caller's to pass again."""
    decompressor = _decompressor_of(context)
    data, _ = _args.data(data)
    max_length = _args.py_ssize(max_length)
    try:
        result = decompressor.decompress(data, max_length, False)
    except _WitError as exc:
        _raise(exc)
    return _args.output(result.data, return_bytearray), result.consumed, result.end_of_frame


# --- classes ----------------------------------------------------------------------------

class LZ4FrameCompressor:
    """Incremental frame compression: ``begin()`` returns the header, ``compress(data)``
    the blocks completed so far, ``flush()`` the rest and the end mark. Usable as a
    context manager. The keyword arguments are those of :func:`compress_begin`."""

    def __init__(self, block_size=BLOCKSIZE_DEFAULT, block_linked=True,
                 compression_level=COMPRESSIONLEVEL_MIN, content_checksum=False,
                 block_checksum=False, auto_flush=False, return_bytearray=False):
        self.block_size = block_size
        self.block_linked = block_linked
        self.compression_level = compression_level
        self.content_checksum = content_checksum
        self.block_checksum = block_checksum
        self.auto_flush = auto_flush
        self.return_bytearray = return_bytearray
        self._context = None
        self._started = False

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception, traceback):
        # Like python-lz4, leaving the block drops the settings and any open frame.
        self.block_size = None
        self.block_linked = None
        self.compression_level = None
        self.content_checksum = None
        self.block_checksum = None
        self.auto_flush = None
        self.return_bytearray = None
        self._context = None
        self._started = False

    def begin(self, source_size=0):
        """Starts a frame (``source_size``, if not 0, is stored in the header) and
        returns its header. RuntimeError if a frame is already started."""
        if self._started:
            raise RuntimeError("LZ4FrameCompressor.begin() called after already initialized")
        self._context = create_compression_context()
        header = compress_begin(
            self._context, source_size=source_size, compression_level=self.compression_level,
            block_size=self.block_size, content_checksum=self.content_checksum,
            block_checksum=self.block_checksum, block_linked=self.block_linked,
            auto_flush=self.auto_flush, return_bytearray=self.return_bytearray)
        self._started = True
        return header

    def compress(self, data):
        """Compresses ``data``; returns the compressed output completed so far."""
        if self._context is None:
            raise RuntimeError("compress called after flush()")
        if not self._started:
            raise RuntimeError("compress called before compress_begin()")
        return compress_chunk(self._context, data, return_bytearray=self.return_bytearray)

    def flush(self):
        """Ends the frame: returns the buffered data and the end mark. A new frame
        needs ``begin()`` again."""
        out = compress_flush(self._context, end_frame=True,
                             return_bytearray=self.return_bytearray)
        self._context = None
        self._started = False
        return out

    def reset(self):
        """Drops the frame in progress, if any."""
        self._context = None
        self._started = False

    def has_context(self):
        """True while a frame is begun and not yet flushed."""
        return self._context is not None

    def started(self):
        """True once ``begin()`` was called (until ``flush()`` or ``reset()``)."""
        return self._started


class LZ4FrameDecompressor:
    """Incremental decompression of one frame, with the interface of the stdlib's
    ``BZ2Decompressor``: ``decompress(data, max_length=-1)``, ``eof``,
    ``needs_input``, ``unused_data`` (bytes after the frame, or None)."""

    def __init__(self, return_bytearray=False):
        self._context = create_decompression_context()
        self.eof = False
        self.needs_input = True
        self.unused_data = None
        self._unconsumed_data = b""
        self._return_bytearray = return_bytearray

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception, traceback):
        self._context = None
        self.eof = None
        self.needs_input = None
        self.unused_data = None
        self._unconsumed_data = None
        self._return_bytearray = None

    def reset(self):
        """Ready for a new frame; input held back so far is dropped."""
        reset_decompression_context(self._context)
        self.eof = False
        self.needs_input = True
        self.unused_data = None
        self._unconsumed_data = b""

    def decompress(self, data, max_length=-1):
        """Decompresses ``data`` (after any input held back by an earlier call whose
        ``max_length`` was reached); returns at most ``max_length`` bytes when it is
        >= 0. Bytes after the end of the frame are kept in ``unused_data``."""
        if not isinstance(data, (bytes, bytearray)):
            data = memoryview(data).tobytes()
        if self._unconsumed_data:
            data = self._unconsumed_data + data
        out, used, end = decompress_chunk(self._context, data, max_length=max_length,
                                          return_bytearray=self._return_bytearray)
        if used < len(data):
            if end:
                self.unused_data = data[used:]
            else:
                self._unconsumed_data = data[used:]
                self.needs_input = False
        else:
            self._unconsumed_data = b""
            self.needs_input = True
            self.unused_data = None
        self.eof = end
        return out


_MODE_CLOSED = 0
_MODE_READ = 1
_MODE_WRITE = 3


class LZ4FrameFile(_compression.BaseStream):
    """A file object for LZ4 frames, like the stdlib's ``BZ2File``: ``filename`` is a
    path or a file object; ``mode`` is "r"/"rb" (several concatenated frames read as
    one stream), or "w", "a", "x" (with or without "b") to write one frame, with the
    compression keyword arguments of :class:`LZ4FrameCompressor`."""

    def __init__(self, filename=None, mode="r", block_size=BLOCKSIZE_DEFAULT,
                 block_linked=True, compression_level=COMPRESSIONLEVEL_MIN,
                 content_checksum=False, block_checksum=False, auto_flush=False,
                 return_bytearray=False, source_size=0):
        self._fp = None
        self._closefp = False
        self._mode = _MODE_CLOSED
        if mode in ("r", "rb"):
            mode_code = _MODE_READ
        elif mode in ("w", "wb", "a", "ab", "x", "xb"):
            mode_code = _MODE_WRITE
            self._compressor = LZ4FrameCompressor(
                block_size=block_size, block_linked=block_linked,
                compression_level=compression_level, content_checksum=content_checksum,
                block_checksum=block_checksum, auto_flush=auto_flush,
                return_bytearray=return_bytearray)
            self._pos = 0
        else:
            raise ValueError(f"Invalid mode: {mode!r}")

        if isinstance(filename, (str, bytes, os.PathLike)):
            if "b" not in mode:
                mode += "b"
            self._fp = builtins.open(filename, mode)
            self._closefp = True
            self._mode = mode_code
        elif hasattr(filename, "read") or hasattr(filename, "write"):
            self._fp = filename
            self._mode = mode_code
        else:
            raise TypeError("filename must be a str, bytes, file or PathLike object")

        if self._mode == _MODE_READ:
            raw = _compression.DecompressReader(self._fp, LZ4FrameDecompressor)
            self._buffer = io.BufferedReader(raw)
        if self._mode == _MODE_WRITE:
            self._source_size = source_size
            self._fp.write(self._compressor.begin(source_size=source_size))

    def close(self):
        """Flushes and closes; a file object passed in is not closed. Closing twice
        does nothing."""
        if self._mode == _MODE_CLOSED:
            return
        try:
            if self._mode == _MODE_READ:
                self._buffer.close()
                self._buffer = None
            elif self._mode == _MODE_WRITE:
                self.flush()
                self._compressor = None
        finally:
            try:
                if self._closefp:
                    self._fp.close()
            finally:
                self._fp = None
                self._closefp = False
                self._mode = _MODE_CLOSED

    @property
    def closed(self):
        return self._mode == _MODE_CLOSED

    def fileno(self):
        self._check_not_closed()
        return self._fp.fileno()

    def seekable(self):
        return self.readable() and self._buffer.seekable()

    def readable(self):
        self._check_not_closed()
        return self._mode == _MODE_READ

    def writable(self):
        self._check_not_closed()
        return self._mode == _MODE_WRITE

    def peek(self, size=-1):
        """At least one byte (unless at the end) without moving the position."""
        self._check_can_read()
        return self._buffer.peek(size)

    def readall(self):
        chunks = bytearray()
        while True:
            data = self.read(io.DEFAULT_BUFFER_SIZE)
            if not data:
                return bytes(chunks)
            chunks += data

    def read(self, size=-1):
        """Up to ``size`` uncompressed bytes (all of them when negative)."""
        self._check_can_read()
        if size < 0:
            return self.readall()
        return self._buffer.read(size)

    def read1(self, size=-1):
        self._check_can_read()
        if size < 0:
            size = io.DEFAULT_BUFFER_SIZE
        return self._buffer.read1(size)

    def readline(self, size=-1):
        self._check_can_read()
        return self._buffer.readline(size)

    def write(self, data):
        """Compresses and writes ``data`` (any bytes-like object); returns its length
        in bytes."""
        if isinstance(data, (bytes, bytearray)):
            length = len(data)
        else:
            data = memoryview(data)
            length = data.nbytes
        self._check_can_write()
        if not self._compressor.started():
            # After flush(), writing begins a new frame in the same file.
            self._fp.write(self._compressor.begin(source_size=self._source_size))
        self._fp.write(self._compressor.compress(data))
        self._pos += length
        return length

    def flush(self):
        """Ends the current frame (when writing) and flushes the file object."""
        if self.writable() and self._compressor.has_context():
            self._fp.write(self._compressor.flush())
        self._fp.flush()

    def seek(self, offset, whence=io.SEEK_SET):
        """Moves the read position (emulated: seeking backwards decompresses from the
        start again). Reading mode only."""
        self._check_can_seek()
        return self._buffer.seek(offset, whence)

    def tell(self):
        """The position in the uncompressed data."""
        self._check_not_closed()
        if self._mode == _MODE_READ:
            return self._buffer.tell()
        return self._pos


def open(filename, mode="rb", encoding=None, errors=None, newline=None,
         block_size=BLOCKSIZE_DEFAULT, block_linked=True,
         compression_level=COMPRESSIONLEVEL_MIN, content_checksum=False,
         block_checksum=False, auto_flush=False, return_bytearray=False, source_size=0):
    """Opens an LZ4 frame file in binary ("rb", "wb", "ab", "xb") or text ("rt", …)
    mode; text mode wraps it in ``io.TextIOWrapper`` with ``encoding``, ``errors``,
    ``newline``."""
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"Invalid mode: {mode!r}")
    else:
        if encoding is not None:
            raise ValueError("Argument 'encoding' not supported in binary mode")
        if errors is not None:
            raise ValueError("Argument 'errors' not supported in binary mode")
        if newline is not None:
            raise ValueError("Argument 'newline' not supported in binary mode")
    binary = LZ4FrameFile(
        filename, mode=mode.replace("t", ""), block_size=block_size,
        block_linked=block_linked, compression_level=compression_level,
        content_checksum=content_checksum, block_checksum=block_checksum,
        auto_flush=auto_flush, return_bytearray=return_bytearray, source_size=source_size)
    if "t" in mode:
        return io.TextIOWrapper(binary, encoding, errors, newline)
    return binary
