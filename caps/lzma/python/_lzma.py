"""_lzma for Pylon: the API of CPython's C module ``_lzma``, served by the lzma cap.

The stdlib's own ``lzma.py`` (``LZMAFile``, ``open``, ``compress``, ``decompress``) does
``from _lzma import *`` and runs unchanged, as do tarfile's ``xz`` modes and zipfile's
``ZIP_LZMA``. The data is handled by xz's liblzma inside the lzma cap (its own
WebAssembly component), reached through the generated ``_pylon_lzma`` module; this file
does what ``Modules/_lzmamodule.c`` does around liblzma: argument conversion, filter
specifiers (dicts) to filter records, the read-only attributes and the exceptions.
Behaviour and messages follow CPython 3.13.
"""

import _operator
import _pylon_lzma
import _pylon_runtime as _rt

_cap = _pylon_lzma.lzma
_WitError = _pylon_lzma.WitError

FORMAT_AUTO = 0
FORMAT_XZ = 1
FORMAT_ALONE = 2
FORMAT_RAW = 3

CHECK_NONE = 0
CHECK_CRC32 = 1
CHECK_CRC64 = 4
CHECK_SHA256 = 10
CHECK_ID_MAX = 15
CHECK_UNKNOWN = 16

FILTER_LZMA1 = 0x4000000000000001
FILTER_LZMA2 = 0x21
FILTER_DELTA = 0x03
FILTER_X86 = 0x04
FILTER_POWERPC = 0x05
FILTER_IA64 = 0x06
FILTER_ARM = 0x07
FILTER_ARMTHUMB = 0x08
FILTER_SPARC = 0x09

MF_HC3 = 0x03
MF_HC4 = 0x04
MF_BT2 = 0x12
MF_BT3 = 0x13
MF_BT4 = 0x14

MODE_FAST = 1
MODE_NORMAL = 2

PRESET_DEFAULT = 6
PRESET_EXTREME = 0x80000000

_FILTERS_MAX = 4
_BCJ = (FILTER_X86, FILTER_POWERPC, FILTER_IA64, FILTER_ARM, FILTER_ARMTHUMB,
        FILTER_SPARC)
_LZMA_KEYS = ("id", "preset", "dict_size", "lc", "lp", "pb", "mode", "nice_len", "mf",
              "depth")


class LZMAError(Exception):
    """Call to liblzma failed."""


# The cap's `error-kind` enum, by case index.
_EXCEPTIONS = {
    _cap.ERROR_KIND_LZMA: LZMAError,
    _cap.ERROR_KIND_VALUE: ValueError,
    _cap.ERROR_KIND_MEMORY: MemoryError,
    _cap.ERROR_KIND_EOF: EOFError,
}


def _raise(exc):
    """Re-raise the cap's `error` record as the exception CPython raises."""
    _rt.raise_error(exc, _EXCEPTIONS, LZMAError)


_c_int = _rt.c_int
_unsigned = _rt.unsigned
_buffer = _rt.buffer


def _u32(value):
    return _unsigned(value, 32, "uint32_t")


def _filter(spec):
    """A filter specifier (a dict) as the cap's `filter` record, with CPython's checks."""
    if not hasattr(type(spec), "__getitem__"):
        raise TypeError("Filter specifier must be a dict or dict-like object")
    try:
        filter_id = spec["id"]
    except KeyError:
        raise ValueError('Filter specifier must have an "id" entry') from None
    filter_id = _unsigned(filter_id, 64, "lzma_vli")
    values = {"preset": PRESET_DEFAULT, "dist": 1, "start_offset": 0}
    if filter_id in (FILTER_LZMA1, FILTER_LZMA2):
        if "preset" in spec:
            values["preset"] = _u32(spec["preset"])
        allowed, what = _LZMA_KEYS, "LZMA filter"
    elif filter_id == FILTER_DELTA:
        allowed, what = ("id", "dist"), "delta filter"
    elif filter_id in _BCJ:
        allowed, what = ("id", "start_offset"), "BCJ filter"
    else:
        raise ValueError(f"Invalid filter ID: {filter_id}")
    # C's PyArg_ParseTupleAndKeywords over the dict: any unknown key or bad value is
    # this one ValueError.
    try:
        for key in spec.keys():
            if key not in allowed:
                raise TypeError(key)
            if key not in ("id", "preset"):
                values[key] = _u32(spec[key])
    except (TypeError, OverflowError, AttributeError):
        raise ValueError(f"Invalid filter specifier for {what}") from None
    get = values.get
    return (filter_id, values["preset"], get("dict_size"), get("lc"), get("lp"), get("pb"),
            get("mode"), get("nice_len"), get("mf"), get("depth"), values["dist"],
            values["start_offset"])


def _chain(filterspecs):
    # PySequence_Length: a mapping is not a sequence, whatever its len().
    if isinstance(filterspecs, dict) or hasattr(type(filterspecs), "keys"):
        raise TypeError(f"{type(filterspecs).__name__} is not a sequence")
    count = len(filterspecs)
    if count > _FILTERS_MAX:
        raise ValueError(f"Too many filters - liblzma supports a maximum of {_FILTERS_MAX}")
    return [_filter(filterspecs[i]) for i in range(count)]


_Final = _rt.final_base("_lzma")


class LZMACompressor(_Final):
    """LZMACompressor(format=FORMAT_XZ, check=-1, preset=None, filters=None)

    Create a compressor object for compressing data incrementally.

    format specifies the container format to use for the output. This can
    be FORMAT_XZ (default), FORMAT_ALONE, or FORMAT_RAW.

    check specifies the integrity check to use. For FORMAT_XZ, the default
    is CHECK_CRC64. FORMAT_ALONE and FORMAT_RAW do not support integrity
    checks; for these formats, check must be omitted, or be CHECK_NONE.

    The settings used by the compressor can be specified either as a
    preset compression level (with the 'preset' argument), or in detail
    as a custom filter chain (with the 'filters' argument). For FORMAT_XZ
    and FORMAT_ALONE, the default is to use the PRESET_DEFAULT preset
    level. For FORMAT_RAW, the caller must always specify a filter chain;
    the raw compressor does not support preset compression levels.

    preset (if provided) should be an integer in the range 0-9, optionally
    OR-ed with the constant PRESET_EXTREME.

    filters (if provided) should be a sequence of dicts. Each dict should
    have an entry for "id" indicating the ID of the filter, plus
    additional entries for options to the filter.

    For one-shot compression, use the compress() function instead.
    """

    __slots__ = ("_stream",)

    def __new__(cls, format=FORMAT_XZ, check=-1, preset=None, filters=None):
        format = _c_int(format)
        check = _c_int(check)
        if format != FORMAT_XZ and check not in (-1, CHECK_NONE):
            raise ValueError("Integrity checks are only supported by FORMAT_XZ")
        if preset is not None and filters is not None:
            raise ValueError("Cannot specify both preset and filter chain")
        preset = PRESET_DEFAULT if preset is None else _u32(preset)
        if format not in (FORMAT_XZ, FORMAT_ALONE, FORMAT_RAW):
            raise ValueError(f"Invalid container format: {format}")
        chain = None if filters is None else _chain(filters)
        self = super().__new__(cls)
        try:
            self._stream = _cap.Compressor.create(format, check, preset, chain)
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


class LZMADecompressor(_Final):
    """Create a decompressor object for decompressing data incrementally.

      format
        Specifies the container format of the input stream.  If this is
        FORMAT_AUTO (the default), the decompressor will automatically detect
        whether the input is FORMAT_XZ or FORMAT_ALONE.  Streams created with
        FORMAT_RAW cannot be autodetected.
      memlimit
        Limit the amount of memory used by the decompressor.  This will cause
        decompression to fail if the input cannot be decompressed within the
        given limit.
      filters
        A custom filter chain.  This argument is required for FORMAT_RAW, and
        not accepted with any other format.  When provided, this should be a
        sequence of dicts, each indicating the ID and options for a single
        filter.

    For one-shot decompression, use the decompress() function instead.
    """

    __slots__ = ("_stream", "_check", "_eof", "_needs_input", "_unused_data")

    def __new__(cls, format=FORMAT_AUTO, memlimit=None, filters=None):
        format = _c_int(format)
        if memlimit is not None:
            if format == FORMAT_RAW:
                raise ValueError("Cannot specify memory limit with FORMAT_RAW")
            memlimit = _unsigned(memlimit, 64, "unsigned long long")
        if format == FORMAT_RAW and filters is None:
            raise ValueError("Must specify filters for FORMAT_RAW")
        if format != FORMAT_RAW and filters is not None:
            raise ValueError("Cannot specify filters except with FORMAT_RAW")
        if format not in (FORMAT_AUTO, FORMAT_XZ, FORMAT_ALONE, FORMAT_RAW):
            raise ValueError(f"Invalid container format: {format}")
        chain = None if filters is None else _chain(filters)
        self = super().__new__(cls)
        try:
            self._stream = _cap.Decompressor.create(format, memlimit, chain)
        except _WitError as exc:
            _raise(exc)
        self._check = CHECK_NONE if format in (FORMAT_ALONE, FORMAT_RAW) else CHECK_UNKNOWN
        self._eof = False
        self._needs_input = True
        self._unused_data = b""
        return self

    @property
    def check(self):
        """ID of the integrity check used by the input stream."""
        return self._check

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

        If *max_length* is nonnegative, returns at most *max_length* bytes of
        decompressed data. If this limit is reached and further output can be
        produced, *self.needs_input* will be set to ``False``. In this case, the next
        call to *decompress()* may provide *data* as b'' to obtain more of the output.

        If all of the input data was decompressed and returned (either because this
        was less than *max_length* bytes, or because *max_length* was negative),
        *self.needs_input* will be set to True.

        Attempting to decompress data after the end of stream is reached raises an
        EOFError.  Any data found after the end of the stream is ignored and saved in
        the unused_data attribute.
        """
        data = _buffer(data)
        max_length = _operator.index(max_length)
        try:
            out = self._stream.decompress(data, max_length)
        except _WitError as exc:
            _raise(exc)
        self._check = out.check
        self._eof = out.eof
        self._needs_input = out.needs_input
        if out.eof:
            self._unused_data = bytes(out.unused_data)
        return bytes(out.data)


def is_check_supported(check_id, /):
    """Test whether the given integrity check is supported.

    Always returns True for CHECK_NONE and CHECK_CRC32.
    """
    return _cap.is_check_supported(_c_int(check_id))


def _encode_filter_properties(filter, /):
    """Return a bytes object encoding the options (properties) of the filter specified by
    *filter* (a dict).

    The result does not include the filter ID itself, only the options.
    """
    spec = _filter(filter)
    try:
        return bytes(_cap.encode_filter_properties(spec))
    except _WitError as exc:
        _raise(exc)


def _decode_filter_properties(filter_id, encoded_props, /):
    """Return a dict describing a filter with ID *filter_id*, and options (properties)
    decoded from the bytes object *encoded_props*."""
    filter_id = _unsigned(filter_id, 64, "lzma_vli")
    try:
        props = _cap.decode_filter_properties(filter_id, _buffer(encoded_props))
    except _WitError as exc:
        _raise(exc)
    spec = {"id": props.id}
    for key in ("lc", "lp", "pb", "dict_size", "dist", "start_offset"):
        value = getattr(props, key)
        if value is not None:
            spec[key] = value
    return spec
