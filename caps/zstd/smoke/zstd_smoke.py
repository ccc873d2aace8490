"""zstd cap smoke test (pylon.zstd, CPython 3.14's compression.zstd API), run inside
pylon.wasm by scripts/smoke.py.

Inputs, frames made by the host's `zstd` CLI, a dictionary it trained and the frame
headers parsed by the host come from zstd_smoke_host.py via /smoke/host.json. What the
guest compresses is written to /smoke/zstd-out/ with a manifest; the host decompresses
it with the CLI afterwards and reads the frame headers with its own parser.
"""
import io
import json
import os
import pickle

from pylon import zstd
from pylon.zstd import (
    COMPRESSION_LEVEL_DEFAULT, CompressionParameter, DecompressionParameter, FrameInfo,
    ZstdCompressor, ZstdDecompressor, ZstdDict, ZstdError, ZstdFile,
    compress, decompress, get_frame_info, get_frame_size,
)

with open("/smoke/host.json") as f:
    host = json.load(f)["zstd"]
inputs = {name: bytes.fromhex(h) for name, h in host["inputs"].items()}
text, records = inputs["text"], inputs["records"]
raw_dict_content = bytes.fromhex(host["raw_dict"])

OUT = "/smoke/zstd-out"
os.makedirs(OUT, exist_ok=True)
manifest = []


def emit(name, data, expect, **header):
    """Write a file for the host's CLI to decompress to the inputs named in expect."""
    with open(f"{OUT}/{name}", "wb") as f:
        f.write(data)
    manifest.append({"file": name, "expect": expect, **header})


def raises(exc, fn, *args, match=None, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc as e:
        if match is not None:
            assert match in str(e), (fn, match, str(e))
        return e
    except BaseException as e:
        raise AssertionError(f"{fn.__name__}: {type(e).__name__}({e}) raised, "
                             f"{exc.__name__} expected") from e
    raise AssertionError(f"{fn.__name__}: {exc.__name__} not raised")


def decompress_bounded(frame, max_length, feed=None):
    """Decompress one frame with at most max_length bytes per call, feeding the input
    in pieces of `feed` bytes (all at once when None); checks needs_input on the way."""
    d = ZstdDecompressor()
    assert not d.eof and d.needs_input and d.unused_data == b""
    chunks = []
    pieces = [frame] if feed is None else [frame[i:i + feed] for i in range(0, len(frame), feed)]
    pieces.reverse()
    while not d.eof:
        if d.needs_input:
            assert pieces, "needs_input with all input given and no eof"
            out = d.decompress(pieces.pop(), max_length)
        else:
            # needs_input is False when output filled max_length (there may be more,
            # as in CPython); a call that then finds nothing must set it back to True
            # (DecompressReader would loop forever otherwise).
            out = d.decompress(b"", max_length)
            assert out or d.eof or d.needs_input, "no progress and needs_input still False"
        assert len(out) <= max_length, (len(out), max_length)
        chunks.append(out)
    assert not pieces
    assert d.unused_data == b""
    raises(EOFError, d.decompress, b"")
    return b"".join(chunks)


# --- constants, enums, bounds -------------------------------------------------------------
assert COMPRESSION_LEVEL_DEFAULT == 3
assert CompressionParameter.compression_level.bounds() == (-131072, 22)
assert CompressionParameter.compression_level == 100
assert CompressionParameter.checksum_flag == 201
assert CompressionParameter.checksum_flag.bounds() == (0, 1)
assert CompressionParameter.content_size_flag.bounds() == (0, 1)
assert CompressionParameter.dict_id_flag.bounds() == (0, 1)
assert DecompressionParameter.window_log_max == 100
assert DecompressionParameter.window_log_max.bounds() == (10, 31)
# Parameters the cap fixes from the level: only zstd's default, 0.
assert CompressionParameter.window_log.bounds() == (0, 0)
assert CompressionParameter.nb_workers.bounds() == (0, 0)
assert zstd.zstd_version == "1.5.7" and zstd.zstd_version_info == (1, 5, 7)
raises(ZstdError, zstd.train_dict, [b"sample one", b"sample two"] * 20, 1024,
       match="not supported")
assert (ZstdCompressor.CONTINUE, ZstdCompressor.FLUSH_BLOCK,
        ZstdCompressor.FLUSH_FRAME) == (0, 1, 2)
assert ZstdFile.FLUSH_BLOCK == 1 and ZstdFile.FLUSH_FRAME == 2
assert issubclass(ZstdError, Exception)

# --- one-shot round trips at many levels --------------------------------------------------
sizes = {}
for name, data in inputs.items():
    for level in (None, -131072, -50, -5, -1, 0, 1, 3, 9, 19, 22):
        c = compress(data, level)
        assert decompress(c) == data, (name, level)
        assert get_frame_size(c) == len(c) and get_frame_size(c + b"trailing") == len(c)
        assert get_frame_info(c) == FrameInfo(len(data), 0), (name, level, get_frame_info(c))
        sizes[name, level] = len(c)
    # The same through the options dict and a ZstdCompressor.
    c = compress(data, options={CompressionParameter.compression_level: 12})
    assert decompress(c) == data
    emit(f"{name}.l12.zst", c, [name], content_size=len(data), checksum=False, frames=1)
    emit(f"{name}.fast5.zst", compress(data, -5), [name], content_size=len(data))
    emit(f"{name}.l22.zst", compress(data, 22), [name], content_size=len(data))
# Levels are real: stronger levels give smaller text frames (level 1 happens to beat
# 3 on this text with libzstd too); out-of-range levels are refused (below).
assert (sizes["text", 19] < sizes["text", 9] < sizes["text", 3] < sizes["text", -1]
        < sizes["text", -5] < sizes["text", -50] < sizes["text", -131072]), sizes
assert sizes["text", None] == sizes["text", 0] == sizes["text", 3]
raises(ValueError, compress, b"x", 1 << 31, match="compression level")
raises(TypeError, compress, b"x", 1.5)
raises(TypeError, compress, b"x", 3, {CompressionParameter.checksum_flag: 1})
assert decompress(memoryview(compress(bytearray(text)))) == text  # bytes-like in and out

# --- frames made by the host's zstd CLI ---------------------------------------------------
if host["cli"]:
    for name, variants in host["frames"].items():
        for variant, f in variants.items():
            frame = bytes.fromhex(f["frame"])
            assert decompress(frame) == inputs[name], (name, variant)
            size, dict_id, _ = f["header"]
            assert get_frame_info(frame) == FrameInfo(size, dict_id), (name, variant)
            assert get_frame_size(frame) == f["sizes"][0], (name, variant)
            assert decompress_bounded(frame, 5000, feed=700) == inputs[name], (name, variant)
    # The CLI's stdin frames carry no content size.
    stdin_frame = bytes.fromhex(host["frames"]["text"]["stdin"]["frame"])
    assert get_frame_info(stdin_frame).decompressed_size is None

# --- streaming compression ----------------------------------------------------------------
co = ZstdCompressor(level=5)
assert co.last_mode == ZstdCompressor.FLUSH_FRAME
half = len(text) // 2
parts = [co.compress(text[i:min(i + 4096, half)]) for i in range(0, half, 4096)]
assert co.last_mode == ZstdCompressor.CONTINUE
parts.append(co.compress(b"", ZstdCompressor.FLUSH_BLOCK))
assert co.last_mode == ZstdCompressor.FLUSH_BLOCK
# After FLUSH_BLOCK everything fed so far decodes, and the frame is still open.
d = ZstdDecompressor()
assert d.decompress(b"".join(parts)) == text[:half]
assert not d.eof and d.needs_input
more = co.compress(text[half:], ZstdCompressor.FLUSH_BLOCK)
assert d.decompress(more) == text[half:] and not d.eof
end = co.flush()
assert co.last_mode == ZstdCompressor.FLUSH_FRAME
assert d.decompress(end) == b"" and d.eof
streamed = b"".join(parts) + more + end
assert decompress(streamed) == text
assert get_frame_info(streamed) == FrameInfo(None, 0)  # streamed: size unknown
assert get_frame_size(streamed) == len(streamed)
emit("text.streamed.zst", streamed, ["text"], content_size=None, frames=1)
# The same compressor starts a new frame; a frame made by one FLUSH_FRAME call has its size.
one = co.compress(records, ZstdCompressor.FLUSH_FRAME)
assert get_frame_info(one).decompressed_size == len(records) and decompress(one) == records
empty_frame = co.flush()  # no frame open: an empty frame, as libzstd makes
assert get_frame_info(empty_frame) == FrameInfo(0, 0) and decompress(empty_frame) == b""
# A pledged size is written to the header and enforced.
co = ZstdCompressor(options={CompressionParameter.checksum_flag: 1,
                             CompressionParameter.compression_level: -3})
co.set_pledged_input_size(len(text))
pledged = b"".join(co.compress(text[i:i + 10000]) for i in range(0, len(text), 10000)) + co.flush()
assert get_frame_info(pledged).decompressed_size == len(text) and decompress(pledged) == text
emit("text.pledged-checksum.zst", pledged, ["text"], content_size=len(text), checksum=True)
co.set_pledged_input_size(100)
co.compress(b"x" * 99)
raises(ValueError, co.set_pledged_input_size, 99)  # only between frames
raises(ZstdError, co.flush)  # 99 bytes where 100 were pledged
assert co.last_mode == ZstdCompressor.FLUSH_FRAME
co.set_pledged_input_size(None)
assert decompress(co.compress(b"after the error", ZstdCompressor.FLUSH_FRAME)) == b"after the error"
raises(ValueError, co.set_pledged_input_size, -1)
raises(ValueError, co.compress, b"x", 7)
raises(ValueError, co.flush, ZstdCompressor.CONTINUE)
raises(TypeError, pickle.dumps, co)
# Several FLUSH_BLOCK calls, then FLUSH_FRAME: one frame; two FLUSH_FRAMEs: two frames.
co = ZstdCompressor(options={CompressionParameter.content_size_flag: 0})
blocks = [co.compress(inputs["random"][i:i + 20000], ZstdCompressor.FLUSH_BLOCK)
          for i in range(0, 65536, 20000)]
assert all(blocks)
two = b"".join(blocks) + co.flush() + co.compress(inputs["zeros"], ZstdCompressor.FLUSH_FRAME)
assert get_frame_info(two).decompressed_size is None  # content_size_flag=0
first = get_frame_size(two)
assert get_frame_info(two[first:]).decompressed_size is None
assert decompress(two) == inputs["random"] + inputs["zeros"]
emit("random-zeros.2frames.zst", two, ["random", "zeros"], content_size=None, frames=2)
# A checksum is verified.
checked = compress(records, options={CompressionParameter.checksum_flag: 1})
assert checked[4] & 0x04 and decompress(checked) == records
bad_sum = checked[:-4] + bytes(b ^ 0xFF for b in checked[-4:])
raises(ZstdError, decompress, bad_sum)
raises(ZstdError, ZstdDecompressor().decompress, bad_sum)

# --- bounded decompression ----------------------------------------------------------------
frame = compress(text, 7)
for max_length, feed in ((1000, None), (1, 50), (65536, 333), (len(text), None)):
    assert decompress_bounded(frame, max_length, feed) == text, (max_length, feed)
d = ZstdDecompressor()
assert d.decompress(frame + b"trailing", 0) == b""
out = d.decompress(b"", 100)
assert len(out) == 100 and not d.needs_input and not d.eof
out += d.decompress(b"")  # the rest
assert out == text and d.eof and d.unused_data == b"trailing"
raises(EOFError, d.decompress, b"more")
# Input fed a few bytes at a time, unbounded.
d = ZstdDecompressor()
out = b""
for i in range(0, len(frame), 97):
    assert d.needs_input and not d.eof
    out += d.decompress(frame[i:i + 97])
assert out == text and d.eof and not d.needs_input

# --- dictionaries -------------------------------------------------------------------------
raw = ZstdDict(raw_dict_content, is_raw=True)
assert raw.dict_id == 0 and raw.dict_content == raw_dict_content
assert len(raw) == len(raw_dict_content)
with_raw = compress(records, 3, zstd_dict=raw)
assert len(with_raw) < len(compress(records, 3))
assert get_frame_info(with_raw).dictionary_id == 0
assert decompress(with_raw, raw) == records
raises(ZstdError, decompress, with_raw)  # the dictionary is needed
emit("records.rawdict.zst", with_raw, ["records"], dict="raw", dict_id=0)
for usage in (raw.as_digested_dict, raw.as_undigested_dict, raw.as_prefix):
    c = compress(records, zstd_dict=usage)
    assert decompress(c, usage) == records
    co = ZstdCompressor(level=9, zstd_dict=usage)
    c = co.compress(records[:3000]) + co.compress(records[3000:], ZstdCompressor.FLUSH_FRAME)
    d = ZstdDecompressor(zstd_dict=usage)
    assert d.decompress(c) == records and d.eof
raises(ValueError, ZstdDict, b"not a zstd dictionary")
raises(ValueError, ZstdDict, b"short", is_raw=True)
raises(TypeError, compress, b"x", zstd_dict=b"a bytes object is no ZstdDict")
raises(TypeError, ZstdDecompressor, (raw, 7))
raises(TypeError, pickle.dumps, raw)
if host["cli"]:
    trained = ZstdDict(bytes.fromhex(host["trained_dict"]))
    assert trained.dict_id == host["trained_dict_id"]
    c = compress(records, 19, zstd_dict=trained)
    assert get_frame_info(c) == FrameInfo(len(records), trained.dict_id)
    assert len(c) < len(compress(records, 19))
    assert decompress(c, trained) == records
    assert decompress(c, trained.as_undigested_dict) == records
    raises(ZstdError, decompress, c)
    raises(ZstdError, decompress, c, raw)  # the wrong dictionary
    emit("records.trained.zst", c, ["records"], dict="trained", dict_id=trained.dict_id)
    no_id = compress(records, options={CompressionParameter.dict_id_flag: 0}, zstd_dict=trained)
    assert get_frame_info(no_id).dictionary_id == 0 and decompress(no_id, trained) == records
    emit("records.trained-noid.zst", no_id, ["records"], dict="trained", dict_id=0)
    # As a prefix the trained dictionary is raw history: no ID in the frame.
    c = compress(records, zstd_dict=trained.as_prefix)
    assert get_frame_info(c).dictionary_id == 0 and decompress(c, trained.as_prefix) == records
    # Frames the CLI made with these dictionaries.
    c = bytes.fromhex(host["dict_frames"]["trained"])
    assert get_frame_info(c).dictionary_id == trained.dict_id
    assert decompress(c, trained) == records
    assert decompress(bytes.fromhex(host["dict_frames"]["raw"]), raw) == records

# --- concatenated and skippable frames ----------------------------------------------------
skippable = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"skip!"
assert get_frame_size(skippable + b"x") == len(skippable)
assert get_frame_info(skippable) == FrameInfo(0, 0)
frames = [compress(inputs["small"]), skippable, compress(b""), streamed, compress(records, -1)]
joined = b"".join(frames)
assert decompress(joined) == inputs["small"] + text + records
pos = 0
for f in frames:
    assert get_frame_size(joined[pos:]) == len(f)
    pos += len(f)
emit("concat.zst", joined, ["small", "text", "records"], frames=len(frames))
# decompress() with options goes frame by frame.
opts = {DecompressionParameter.window_log_max: 31}
assert decompress(joined, options=opts) == inputs["small"] + text + records
d = ZstdDecompressor()
assert d.decompress(joined) == inputs["small"] and d.eof
assert d.unused_data == joined[len(frames[0]):]

# --- errors -------------------------------------------------------------------------------
raises(ZstdError, decompress, b"")
raises(ZstdError, decompress, b"this is not zstd data at all")
raises(ZstdError, decompress, frame[:-10])  # truncated
raises(ZstdError, decompress, frame + b"garbage after the frame")
raises(ZstdError, decompress, frame[:200], options=opts)
corrupt = bytearray(frame)
corrupt[len(corrupt) // 2] ^= 0x55
corrupt[len(corrupt) // 2 + 7] ^= 0xAA
try:
    result = decompress(bytes(corrupt))
except ZstdError:
    pass
else:  # no checksum in `frame`: corruption may go unnoticed, but not unchanged
    assert result != text
raises(ZstdError, get_frame_info, b"\x28\xb5\x2f")
raises(ZstdError, get_frame_info, b"not a frame header")
raises(ZstdError, get_frame_size, frame[:-1])
raises(ZstdError, get_frame_size, b"junk junk junk")
d = ZstdDecompressor()
raises(ZstdError, d.decompress, b"this is not zstd data at all")
raises(ZstdError, d.decompress, frame)  # stays failed
# The window limit: a frame asking for more than 2^10 bytes of window.
raises(ZstdError, decompress, frame, options={DecompressionParameter.window_log_max: 10})
small_window = ZstdDecompressor(options={DecompressionParameter.window_log_max: 10})
raises(ZstdError, small_window.decompress, frame)
assert decompress(frame, options={DecompressionParameter.window_log_max: 0}) == text
raises(ValueError, ZstdDecompressor, options={DecompressionParameter.window_log_max: 9})
# Options the cap cannot honour are refused by name; 0 means zstd's default and is fine.
raises(ValueError, compress, b"x", options={CompressionParameter.window_log: 20}, match="window_log")
raises(ValueError, ZstdCompressor, options={CompressionParameter.strategy: 3}, match="strategy")
raises(ValueError, ZstdCompressor, options={CompressionParameter.nb_workers: 2}, match="nb_workers")
assert decompress(compress(text, options={CompressionParameter.window_log: 0,
                                          CompressionParameter.nb_workers: 0})) == text
raises(ValueError, compress, b"x", options={12345: 1}, match="12345")
# Levels outside zstd's range are refused, as CPython 3.14 does (libzstd would clamp).
raises(ValueError, compress, b"x", 23, match="[-131072, 22]")
raises(ValueError, ZstdCompressor, -131073)
raises(ValueError, compress, b"x", options={CompressionParameter.compression_level: 100})
raises(TypeError, compress, b"x", options={DecompressionParameter.window_log_max: 20})
raises(TypeError, ZstdDecompressor, options={CompressionParameter.compression_level: 3})
raises(TypeError, ZstdCompressor, options=[(100, 3)])
raises(OverflowError, ZstdCompressor, options={CompressionParameter.compression_level: 1 << 40})
raises(ValueError, ZstdCompressor, 1 << 40)

# --- ZstdFile and open() ------------------------------------------------------------------
path = f"{OUT}/file.zst"
with zstd.open(path, "wb", level=7) as f:
    assert f.writable() and not f.readable() and f.mode == "wb" and f.name == path
    for i in range(0, len(text), 5000):
        assert f.write(memoryview(text)[i:i + 5000]) == len(text[i:i + 5000])
    f.flush()  # FLUSH_BLOCK
    assert f.tell() == len(text)
assert f.closed
with ZstdFile(path, "ab", options={CompressionParameter.checksum_flag: 1}) as f:
    f.write(records)
manifest.append({"file": "file.zst", "expect": ["text", "records"], "frames": 2})
with zstd.open(path) as f:
    assert f.readable() and f.seekable() and f.mode == "rb"
    assert f.read(10) == text[:10] and f.tell() == 10
    assert f.readline() == text[10:text.index(b"\n") + 1]
    assert f.peek(1)[:1] == text[f.tell():f.tell() + 1]
    rest = f.read()
    assert text[:10] + text[10:text.index(b"\n") + 1] + rest == text + records
    f.seek(len(text) + 5)
    assert f.read(20) == records[5:25]
    f.seek(-30, io.SEEK_CUR)
    assert f.read(30) == (text + records)[len(text) - 5:len(text) + 25]
    buf = bytearray(1000)
    f.seek(0)
    assert f.readinto(buf) == 1000 and bytes(buf) == text[:1000]
    assert len(f.read1()) > 0
assert list(ZstdFile(path)) == (text + records).splitlines(keepends=True)
raises(ValueError, f.read)  # closed
with zstd.open(f"{OUT}/text.txt.zst", "wt", encoding="utf-8", newline="") as f:
    f.write("h\u00e9llo w\u00f6rld\n" * 100)
with zstd.open(f"{OUT}/text.txt.zst", "rt", encoding="utf-8", newline="") as f:
    assert f.read() == "h\u00e9llo w\u00f6rld\n" * 100
# Over file objects; frames from several sources joined; a bounded DecompressReader.
bio = io.BytesIO()
with ZstdFile(bio, "w", zstd_dict=raw) as f:
    f.write(records)
    f.flush(ZstdFile.FLUSH_FRAME)
    f.write(records)
assert not bio.closed
assert decompress(bio.getvalue(), raw) == records * 2
with ZstdFile(io.BytesIO(bio.getvalue()), zstd_dict=raw) as f:
    assert f.read() == records * 2
with ZstdFile(io.BytesIO(joined + skippable)) as f:
    assert f.read() == inputs["small"] + text + records
with ZstdFile(io.BytesIO(frame + b"garbage after the frame")) as f:
    raises(ZstdError, f.read)
with ZstdFile(io.BytesIO(frame[:-5])) as f:
    raises(EOFError, f.read)
if host["cli"]:
    with ZstdFile(io.BytesIO(bytes.fromhex(host["frames"]["text"]["l19check"]["frame"]))) as f:
        assert f.read() == text
raises(ValueError, ZstdFile, io.BytesIO(), "rw")
raises(TypeError, ZstdFile, io.BytesIO(), "r", level=3)
raises(TypeError, ZstdFile, 42, "r")
raises(ValueError, zstd.open, io.BytesIO(), "rb", encoding="utf-8")
with ZstdFile(io.BytesIO(), "w") as f:
    raises(io.UnsupportedOperation, f.read)
raises(ValueError, f.write, b"x")  # closed

with open(f"{OUT}/manifest.json", "w") as f:
    json.dump(manifest, f, indent=1)
print(f"zstd smoke: OK ({len(manifest)} files for the host"
      f"{'' if host['cli'] else '; no zstd CLI on the host'})")
