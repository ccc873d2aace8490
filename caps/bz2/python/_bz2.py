"""_bz2 for Pylon: the API of CPython's C module ``_bz2``, served by the bz2 cap.

The stdlib's own ``bz2.py`` (``BZ2File``, ``open``, ``compress``, ``decompress``) imports
``BZ2Compressor`` and ``BZ2Decompressor`` from here and runs unchanged. The compressed
data is handled in the bz2 cap (libbzip2 1.0.8 ported to Rust, in its own WebAssembly
component), reached through the generated ``_pylon_bz2`` module; this file does what
``Modules/_bz2module.c`` does around libbzip2: argument conversion, the read-only
attributes, and the exceptions. Behaviour and messages follow CPython 3.13.
"""

import _pylon_bz2
import _pylon_runtime as _rt

_cap = _pylon_bz2.bz2
_WitError = _pylon_bz2.WitError

__all__ = ["BZ2Compressor", "BZ2Decompressor"]

# The cap's `error-kind` enum, by case index.
_EXCEPTIONS = {
    _cap.ERROR_KIND_OS: OSError,
    _cap.ERROR_KIND_VALUE: ValueError,
    _cap.ERROR_KIND_MEMORY: MemoryError,
    _cap.ERROR_KIND_EOF: EOFError,
    _cap.ERROR_KIND_RUNTIME: RuntimeError,
}


def _raise(exc):
    """Re-raise the cap's `error` record as the exception CPython raises."""
    _rt.raise_error(exc, _EXCEPTIONS, OSError)


_Final = _rt.final_base("_bz2")
_buffer = _rt.buffer


class BZ2Compressor(_Final):
    """Create a compressor object for compressing data incrementally.

      compresslevel
        Compression level, as a number between 1 and 9.

    For one-shot compression, use the compress() function instead.
    """

    __slots__ = ("_stream",)

    def __new__(cls, compresslevel=9, /):
        if isinstance(compresslevel, float):
            raise TypeError("'float' object cannot be interpreted as an integer")
        level = compresslevel.__index__()
        if not 1 <= level <= 9:
            raise ValueError("compresslevel must be between 1 and 9")
        self = super().__new__(cls)
        try:
            self._stream = _cap.Compressor.create(level)
        except _WitError as exc:
            _raise(exc)
        return self

    def compress(self, data, /):
        """Provide data to the compressor object.

        Returns a chunk of compressed data if possible, or b'' otherwise.

        When you have finished providing data to the compressor, call the
        flush() method to finish the compression process.
        """
        try:
            return bytes(self._stream.compress(_buffer(data)))
        except _WitError as exc:
            _raise(exc)

    def flush(self, /):
        """Finish the compression process.

        Returns the compressed data left in internal buffers.

        The compressor object may not be used after this method is called.
        """
        try:
            return bytes(self._stream.flush())
        except _WitError as exc:
            _raise(exc)


class BZ2Decompressor(_Final):
    """Create a decompressor object for decompressing data incrementally.

    For one-shot decompression, use the decompress() function instead.
    """

    __slots__ = ("_stream", "_eof", "_needs_input", "_unused_data")

    def __new__(cls, /):
        self = super().__new__(cls)
        try:
            self._stream = _cap.Decompressor.create()
        except _WitError as exc:
            _raise(exc)
        self._eof = False
        self._needs_input = True
        self._unused_data = b""
        return self

    @property
    def eof(self):
        """True if the end-of-stream marker has been reached."""
        return self._eof

    @property
    def unused_data(self):
        """Data found after the end of the compressed stream."""
        return self._unused_data

    @property
    def needs_input(self):
        """True if more input is needed before more decompressed data can be produced."""
        return self._needs_input

    def decompress(self, data, max_length=-1):
        """Decompress *data*, returning uncompressed data as bytes.

        If *max_length* is nonnegative, returns at most *max_length* bytes
        of decompressed data.  If this limit is reached and further output
        can be produced, *self.needs_input* will be set to ``False``.  In
        this case, the next call to *decompress()* may provide *data* as b''
        to obtain more of the output.

        If all of the input data was decompressed and returned (either
        because this was less than *max_length* bytes, or because
        *max_length* was negative), *self.needs_input* will be set to True.

        Attempting to decompress data after the end of stream is reached
        raises an EOFError.  Any data found after the end of the stream is
        ignored and saved in the unused_data attribute.
        """
        data = _buffer(data)
        if isinstance(max_length, float):
            raise TypeError("'float' object cannot be interpreted as an integer")
        max_length = max_length.__index__()
        try:
            out = self._stream.decompress(data, max_length)
        except _WitError as exc:
            if exc.args[0].kind != _cap.ERROR_KIND_EOF and \
                    exc.args[0].kind != _cap.ERROR_KIND_VALUE:
                self._needs_input = False
            _raise(exc)
        self._eof = out.eof
        self._needs_input = out.needs_input
        if out.eof:
            self._unused_data = bytes(out.unused_data)
        return bytes(out.data)
