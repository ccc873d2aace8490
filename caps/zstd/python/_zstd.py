"""CPython 3.14's ``_zstd`` module, served by Pylon's zstd cap.

In CPython 3.14, ``_zstd`` is a C extension over libzstd, and the stdlib's
``compression.zstd`` (with ``shutil``, ``tarfile`` and ``zipfile`` behind it) is a Python
layer over ``_zstd``. Pylon's profiles switch the C module off (there is no libzstd
for WASI in the toolchain); this file takes its place. It has the C module's API:
the low-level classes ``ZstdCompressor``, ``ZstdDecompressor`` and ``ZstdDict``,
``ZstdError``, the frame functions, ``get_param_bounds``/``set_parameter_types`` and
the ``ZSTD_*`` constants. The compression work happens in the zstd cap (a separate
WebAssembly component, the safe-Rust ``mzstd`` inside), reached through the generated
``_pylon_zstd`` extension module.

What the cap cannot do, and how it shows:

* Compression parameters other than ``compressionLevel`` and the three flags are fixed
  by the level: ``get_param_bounds`` reports (0, 0) for them (only "zstd's default"),
  as libzstd itself reports (0, 0) for ``nbWorkers`` when built without threads, and
  any other value raises ``ValueError``, as an out-of-range value does in CPython. The one decompression parameter,
  ``windowLogMax``, is supported.
* ``train_dict`` and ``finalize_dict`` raise ``ZstdError``: the cap cannot train
  dictionaries. Dictionaries made elsewhere (``zstd --train``) work fully.
* Digested and undigested dictionary use behave the same (in libzstd the difference
  is a speed trade-off); a prefix is used as raw history, as libzstd's are.
* ``zstd_version`` is the zstd release whose format and level tables the cap's
  encoder follows (mzstd 0.2.9 writes zstd 1.5.7's frames), not a libzstd build.
"""

import operator

import _pylon_runtime as _rt
import _pylon_zstd

_cap = _pylon_zstd.zstd
_WitError = _pylon_zstd.WitError

# mzstd 0.2.9, the cap's engine, ports zstd 1.5.7's encoder (byte-identical output at
# the levels its differential tests cover). compression.zstd refuses anything < 1.4.5.
zstd_version = "1.5.7"
zstd_version_number = 1 * 100 * 100 + 5 * 100 + 7

_LEVELS = _cap.level_bounds()
ZSTD_CLEVEL_DEFAULT = _LEVELS.default_level
# libzstd's ZSTD_DStreamOutSize(): one full block, the largest piece a block decodes to.
ZSTD_DStreamOutSize = 128 * 1024

# Parameter and strategy numbers are libzstd's (zstd.h, stable API): callers and
# pickled enums may carry them.
ZSTD_c_compressionLevel = 100
ZSTD_c_windowLog = 101
ZSTD_c_hashLog = 102
ZSTD_c_chainLog = 103
ZSTD_c_searchLog = 104
ZSTD_c_minMatch = 105
ZSTD_c_targetLength = 106
ZSTD_c_strategy = 107
ZSTD_c_enableLongDistanceMatching = 160
ZSTD_c_ldmHashLog = 161
ZSTD_c_ldmMinMatch = 162
ZSTD_c_ldmBucketSizeLog = 163
ZSTD_c_ldmHashRateLog = 164
ZSTD_c_contentSizeFlag = 200
ZSTD_c_checksumFlag = 201
ZSTD_c_dictIDFlag = 202
ZSTD_c_nbWorkers = 400
ZSTD_c_jobSize = 401
ZSTD_c_overlapLog = 402

ZSTD_d_windowLogMax = 100

ZSTD_fast = 1
ZSTD_dfast = 2
ZSTD_greedy = 3
ZSTD_lazy = 4
ZSTD_lazy2 = 5
ZSTD_btlazy2 = 6
ZSTD_btopt = 7
ZSTD_btultra = 8
ZSTD_btultra2 = 9

# Parameter names in error messages: compression.zstd's enum member names.
_C_PARAMETER_NAMES = {
    ZSTD_c_compressionLevel: "compression_level",
    ZSTD_c_windowLog: "window_log",
    ZSTD_c_hashLog: "hash_log",
    ZSTD_c_chainLog: "chain_log",
    ZSTD_c_searchLog: "search_log",
    ZSTD_c_minMatch: "min_match",
    ZSTD_c_targetLength: "target_length",
    ZSTD_c_strategy: "strategy",
    ZSTD_c_enableLongDistanceMatching: "enable_long_distance_matching",
    ZSTD_c_ldmHashLog: "ldm_hash_log",
    ZSTD_c_ldmMinMatch: "ldm_min_match",
    ZSTD_c_ldmBucketSizeLog: "ldm_bucket_size_log",
    ZSTD_c_ldmHashRateLog: "ldm_hash_rate_log",
    ZSTD_c_contentSizeFlag: "content_size_flag",
    ZSTD_c_checksumFlag: "checksum_flag",
    ZSTD_c_dictIDFlag: "dict_id_flag",
    ZSTD_c_nbWorkers: "nb_workers",
    ZSTD_c_jobSize: "job_size",
    ZSTD_c_overlapLog: "overlap_log",
}
_D_PARAMETER_NAMES = {ZSTD_d_windowLogMax: "window_log_max"}
# The flags the cap takes, by the field of its compress-options record.
_C_FLAGS = {
    ZSTD_c_checksumFlag: "checksum",
    ZSTD_c_contentSizeFlag: "content_size",
    ZSTD_c_dictIDFlag: "dictionary_id",
}
_WINDOW_LOG_MIN, _WINDOW_LOG_MAX = 10, 31

_CONTENT_SIZE_ERROR = (1 << 64) - 2  # libzstd's ZSTD_CONTENTSIZE_ERROR


class ZstdError(Exception):
    """An error occurred in the zstd library."""


def _exception(witerror, action):
    """The exception CPython 3.14 raises for the cap's `error` record.

    `action` is what failed ("compress", "decompress", "load-compress-dict",
    "load-decompress-dict"). The messages follow CPython's, whose first part callers
    match on; where CPython appends libzstd's error name, the cap's message (which
    starts with that name) takes its place.
    """
    failure = witerror.args[0]
    kind = failure.kind
    detail = failure.message[:1].upper() + failure.message[1:]
    if kind == _cap.ERROR_KIND_INVALID_ARGUMENT:
        return ValueError(failure.message)
    if kind == _cap.ERROR_KIND_ALREADY_FINISHED:
        return EOFError("Already at the end of a Zstandard frame.")
    # corrupt data, dictionary, memory limit, wrong input size, internal
    if action == "load-compress-dict":
        return ZstdError("Failed to create a ZSTD_CDict instance from Zstandard "
                         "dictionary content.")
    if action == "load-decompress-dict":
        return ZstdError("Failed to create a ZSTD_DDict instance from Zstandard "
                         "dictionary content.")
    return ZstdError(f"Unable to {action} Zstandard data: {detail}")


# --- parameters ------------------------------------------------------------------------

# The enum classes compression.zstd registers, so that a compression parameter given to
# a decompressor (or the reverse) is a TypeError, as in C.
_parameter_types = {"compression": None, "decompression": None}


def set_parameter_types(c_parameter_type, d_parameter_type):
    """Set CompressionParameter and DecompressionParameter types for validity check."""
    if not isinstance(c_parameter_type, type) or not isinstance(d_parameter_type, type):
        raise ValueError("The two arguments should be CompressionParameter and "
                         "DecompressionParameter types.")
    _parameter_types["compression"] = c_parameter_type
    _parameter_types["decompression"] = d_parameter_type


_c_int = _rt.as_int


def get_param_bounds(parameter, is_compress):
    """Get CompressionParameter/DecompressionParameter bounds (both inclusive).

    Parameters the cap fixes by the level have bounds (0, 0): only zstd's default.
    """
    parameter = _c_int(parameter)
    if is_compress:
        if parameter == ZSTD_c_compressionLevel:
            return (_LEVELS.min, _LEVELS.max)
        if parameter in _C_FLAGS:
            return (0, 1)
        if parameter in _C_PARAMETER_NAMES:
            return (0, 0)
        raise ZstdError("Error when getting bounds of Zstandard compression parameter "
                        f"{parameter}: unknown parameter")
    if parameter == ZSTD_d_windowLogMax:
        return (_WINDOW_LOG_MIN, _WINDOW_LOG_MAX)
    raise ZstdError("Error when getting bounds of Zstandard decompression parameter "
                    f"{parameter}: unknown parameter")


def _parameter_error(kind, key, value):
    """The ValueError CPython 3.14 raises for a parameter value libzstd refuses."""
    names = _C_PARAMETER_NAMES if kind == "compression" else _D_PARAMETER_NAMES
    name = names.get(key)
    if name is None:
        return ValueError(f"invalid {kind} parameter 'unknown parameter (key {key})'")
    low, high = get_param_bounds(key, kind == "compression")
    why = (" (Pylon's zstd cap sets it from the level; only 0, zstd's default, is "
           "accepted)" if (low, high) == (0, 0) else "")
    return ValueError(f"{kind} parameter '{name}' received an illegal value {value}; "
                      f"the valid range is [{low}, {high}]{why}")


def _check_level(level):
    bounds = f"the valid range is [{_LEVELS.min}, {_LEVELS.max}]"
    try:
        level = _c_int(level)
    except OverflowError:
        raise ValueError(f"illegal compression level; {bounds}") from None
    if not _LEVELS.min <= level <= _LEVELS.max:
        raise ValueError(f"illegal compression level {level}; {bounds}")
    return level


def _compress_options(level, options):
    """`level`/`options` as the cap's compress-options record (a tuple)."""
    if level is not None and options is not None:
        raise TypeError("Only one of level or options should be used.")
    settings = {"level": 0, "checksum": False, "content_size": True, "dictionary_id": True}
    if level is not None:
        if not isinstance(level, int):
            raise TypeError("invalid type for level, expected int")
        settings["level"] = _check_level(level)
    elif options is not None:
        if not isinstance(options, dict):
            raise TypeError(f"ZstdCompressor() argument 'options' must be dict, not "
                            f"{type(options).__name__}")
        d_type = _parameter_types["decompression"]
        for key, value in options.items():
            if type(key) is d_type:
                raise TypeError("compression options dictionary key must not be a "
                                "DecompressionParameter attribute")
            key = _c_int(key)
            value = _c_int(value)
            if key == ZSTD_c_compressionLevel:
                settings["level"] = _check_level(value)
            elif key in _C_FLAGS:
                settings[_C_FLAGS[key]] = value != 0  # as libzstd reads its flags
            elif key not in _C_PARAMETER_NAMES or value != 0:
                raise _parameter_error("compression", key, value)
    return (settings["level"], settings["checksum"], settings["content_size"],
            settings["dictionary_id"])


def _window_log_max(options):
    """`options` of a decompressor as the cap's `window-log-max` (None: default)."""
    if options is None:
        return None
    if not isinstance(options, dict):
        raise TypeError(f"ZstdDecompressor() argument 'options' must be dict, not "
                        f"{type(options).__name__}")
    c_type = _parameter_types["compression"]
    window_log_max = None
    for key, value in options.items():
        if type(key) is c_type:
            raise TypeError("decompression options dictionary key must not be a "
                            "CompressionParameter attribute")
        key = _c_int(key)
        value = _c_int(value)
        if key != ZSTD_d_windowLogMax:
            raise _parameter_error("decompression", key, value)
        if value == 0:
            window_log_max = None  # zstd's default
        elif _WINDOW_LOG_MIN <= value <= _WINDOW_LOG_MAX:
            window_log_max = value
        else:
            raise _parameter_error("decompression", key, value)
    return window_log_max


# --- dictionaries ----------------------------------------------------------------------

# How a ZstdDict is used; the as_* properties return (dict, usage) pairs.
_DICT_TYPE_DIGESTED = 0
_DICT_TYPE_UNDIGESTED = 1
_DICT_TYPE_PREFIX = 2


class ZstdDict:
    """Represents a Zstandard dictionary.

    dict_content: a zstd-format dictionary (as made by ``zstd --train``), or any bytes
    when is_raw is true: "raw content" that frames may refer back to.
    """

    __slots__ = ("_content", "_is_raw", "_dict_id", "__weakref__")

    def __init__(self, dict_content, /, *, is_raw=False):
        content = bytes(dict_content)
        if len(content) < 8:
            raise ValueError("Zstandard dictionary content too short "
                             "(must have at least eight bytes)")
        dict_id = _cap.dictionary_id(content)  # read from the bytes, whatever the use
        if not is_raw and dict_id == 0:
            raise ValueError("invalid Zstandard dictionary (pass is_raw=True to use "
                             "these bytes as raw content)")
        self._content = content
        self._is_raw = bool(is_raw)
        self._dict_id = dict_id

    @property
    def dict_content(self):
        """The content of a Zstandard dictionary, as a bytes object."""
        return self._content

    @property
    def dict_id(self):
        """The dictionary ID in the content; 0 when it is not a zstd-format dictionary."""
        return self._dict_id

    @property
    def as_digested_dict(self):
        """Load as a digested dictionary to compressor (zstd's default usage)."""
        return (self, _DICT_TYPE_DIGESTED)

    @property
    def as_undigested_dict(self):
        """Load as an undigested dictionary to compressor."""
        return (self, _DICT_TYPE_UNDIGESTED)

    @property
    def as_prefix(self):
        """Load as a prefix to compressor/decompressor (raw history, for one frame)."""
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
    wrong = TypeError("zstd_dict argument should be a ZstdDict object.")
    if isinstance(zstd_dict, ZstdDict):
        d, usage = zstd_dict, _DICT_TYPE_DIGESTED
    elif (isinstance(zstd_dict, tuple) and len(zstd_dict) == 2
          and isinstance(zstd_dict[0], ZstdDict) and isinstance(zstd_dict[1], int)):
        d, usage = zstd_dict[0], _c_int(zstd_dict[1])  # a C int there, as in CPython
        if usage not in (_DICT_TYPE_DIGESTED, _DICT_TYPE_UNDIGESTED, _DICT_TYPE_PREFIX):
            raise wrong
    else:
        raise wrong
    return (d._content, d._is_raw or usage == _DICT_TYPE_PREFIX)


def _training_arguments(function, samples_bytes, samples_sizes, dict_size):
    """The argument conversions of CPython's train_dict/finalize_dict."""
    if type(samples_bytes) is not bytes:
        raise TypeError(f"{function}() argument 'samples_bytes' must be bytes, not "
                        f"{type(samples_bytes).__name__}")
    if type(samples_sizes) is not tuple:
        raise TypeError(f"{function}() argument 'samples_sizes' must be tuple, not "
                        f"{type(samples_sizes).__name__}")
    return _c_int(dict_size)


def _check_training_values(samples_bytes, samples_sizes, dict_size):
    """The value checks that follow, so that only a valid call reaches the cap's
    "not supported"."""
    if dict_size <= 0:
        raise ValueError("dict_size argument should be positive number.")
    total = 0
    for size in samples_sizes:
        size = operator.index(size)
        if not 0 <= size < (1 << 64):  # not a size_t
            total = -1
            break
        total += size
    if total != len(samples_bytes):
        raise ValueError("The samples size tuple doesn't match the concatenation's size.")


def train_dict(samples_bytes, samples_sizes, dict_size, /):
    """Train a Zstandard dictionary on sample data: not available on Pylon.

    The arguments are checked as CPython does; a valid call raises ZstdError.
    """
    dict_size = _training_arguments("train_dict", samples_bytes, samples_sizes, dict_size)
    _check_training_values(samples_bytes, samples_sizes, dict_size)
    raise ZstdError("Unable to train the Zstandard dictionary: dictionary training is "
                    "not supported by Pylon's zstd cap (train with `zstd --train` and "
                    "load the result with ZstdDict)")


def finalize_dict(custom_dict_bytes, samples_bytes, samples_sizes, dict_size,
                  compression_level, /):
    """Finalize a Zstandard dictionary: not available on Pylon.

    The arguments are checked as CPython does; a valid call raises ZstdError.
    """
    if type(custom_dict_bytes) is not bytes:
        raise TypeError("finalize_dict() argument 'custom_dict_bytes' must be bytes, "
                        f"not {type(custom_dict_bytes).__name__}")
    dict_size = _training_arguments("finalize_dict", samples_bytes, samples_sizes,
                                    dict_size)
    _c_int(compression_level)
    _check_training_values(samples_bytes, samples_sizes, dict_size)
    raise ZstdError("Unable to finalize the Zstandard dictionary: dictionary training "
                    "is not supported by Pylon's zstd cap (use `zstd --train` and load "
                    "the result with ZstdDict)")


# --- streaming classes -----------------------------------------------------------------

class ZstdCompressor:
    """Create a compressor object for compressing data incrementally.

    level: the compression level; options: a dict of compression parameters
    (exclusive with level); zstd_dict: a ZstdDict or one of its as_* usages.
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
            raise _exception(exc, "load-compress-dict") from None

    def compress(self, data, mode=CONTINUE):
        """Provide data to the compressor; return what this call produced.

        mode: CONTINUE (buffer, output only whole blocks), FLUSH_BLOCK (everything so
        far becomes decodable) or FLUSH_FRAME (end the frame; the next data starts a
        new one).
        """
        cap_mode = self._TO_CAP.get(mode) if type(mode) is int else None
        if cap_mode is None:
            raise ValueError("value must be ZstdCompressor.CONTINUE, "
                             "ZstdCompressor.FLUSH_BLOCK or ZstdCompressor.FLUSH_FRAME")
        try:
            return self._stream.compress(data, cap_mode)
        except _WitError as exc:
            raise _exception(exc, "compress") from None

    def flush(self, mode=FLUSH_FRAME):
        """Finish the current block (FLUSH_BLOCK) or frame (FLUSH_FRAME)."""
        if type(mode) is not int or mode not in (self.FLUSH_BLOCK, self.FLUSH_FRAME):
            raise ValueError("value must be ZstdCompressor.FLUSH_FRAME or "
                             "ZstdCompressor.FLUSH_BLOCK")
        try:
            return self._stream.flush(self._TO_CAP[mode])
        except _WitError as exc:
            raise _exception(exc, "compress") from None

    def set_pledged_input_size(self, size, /):
        """Set the uncompressed content size of the next frame (None: unknown).

        The size is written into the frame header and checked when the frame ends.
        Only valid between frames (when last_mode is FLUSH_FRAME).
        """
        if size is not None:
            if not isinstance(size, int):
                raise TypeError(f"size must be int or None, not {type(size).__name__}")
            if not 0 <= size < _CONTENT_SIZE_ERROR:
                raise ValueError("size argument should be a positive int less than "
                                 f"{_CONTENT_SIZE_ERROR}")
        if self.last_mode != self.FLUSH_FRAME:
            raise ValueError("set_pledged_input_size() method must be called when "
                             "last_mode == FLUSH_FRAME")
        try:
            self._stream.set_pledged_input_size(size)
        except _WitError as exc:
            raise _exception(exc, "compress") from None

    @property
    def last_mode(self):
        """The mode of the last compress()/flush() call; FLUSH_FRAME when new."""
        return self._FROM_CAP[self._stream.last_mode()]

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


class ZstdDecompressor:
    """Create a decompressor object for decompressing one frame incrementally.

    zstd_dict: a ZstdDict or one of its as_* usages; options: a dict of decompression
    parameters. Data after the end of the frame is kept in unused_data.
    """

    def __init__(self, zstd_dict=None, options=None):
        window_log_max = _window_log_max(options)
        cap_dict = _cap_dict(zstd_dict)
        try:
            self._stream = _cap.Decompressor.create(cap_dict, window_log_max)
        except _WitError as exc:
            raise _exception(exc, "load-decompress-dict") from None
        self._needs_input = True

    def decompress(self, data, max_length=-1):
        """Decompress data, returning at most max_length bytes (all when negative).

        Input that could not be processed because of max_length is kept for the next
        call (needs_input is then False). After the end of the frame, EOFError.
        """
        max_length = operator.index(max_length)
        limit = max_length if 0 <= max_length < (1 << 64) else None
        try:
            out = self._stream.decompress(data, limit)
        except _WitError as exc:
            raise _exception(exc, "decompress") from None
        # CPython's rule, stricter than the cap's "more output is buffered": output
        # that filled max_length may have more behind it, so ask to be called again.
        self._needs_input = (self._stream.needs_input() and not self._stream.eof()
                             and (limit is None or len(out) != limit))
        return out

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
        return self._needs_input

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")


# --- frames ----------------------------------------------------------------------------

def get_frame_info(frame_buffer):
    """The (decompressed_size, dictionary_id) of the frame header at the start of
    frame_buffer; decompressed_size is None when the header does not record it."""
    try:
        params = _cap.frame_info(frame_buffer)
    except _WitError as exc:
        raise ZstdError(
            "Error when getting information from the header of a Zstandard frame. "
            "Ensure the frame_buffer argument starts from the beginning of a frame, "
            "and its length is not less than the frame header (6~18 bytes). "
            f"({exc.args[0].message})") from None
    return (params.content_size, params.dictionary_id)


def get_frame_size(frame_buffer):
    """The size of the complete frame at the start of frame_buffer, including its
    header and checksum."""
    try:
        return _cap.frame_size(frame_buffer)
    except _WitError as exc:
        raise ZstdError(
            "Error when finding the compressed size of a Zstandard frame. Ensure the "
            "frame_buffer argument starts from the beginning of a frame, and its length "
            f"is not less than this complete frame. ({exc.args[0].message})") from None
