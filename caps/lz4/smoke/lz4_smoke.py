"""lz4 cap smoke test, run inside pylon.wasm by scripts/smoke.py (`make smoke`): Pylon's
lz4.frame and lz4.block read what the real python-lz4 and the lz4 command line tool
wrote (empty, one byte, incompressible and large inputs, every block size, linked and
independent blocks, checksums, HC), and write frames and blocks in every setting for
the host to read back (lz4_smoke_host.py check).
The first line printed is the summary shown when it passes."""
import io
import json
import os

import lz4
import lz4.block
import lz4.frame

with open("/smoke/host.json") as f:
    host = json.load(f)["lz4"]
DIR = "/smoke/lz4"

names = sorted(e[:-4] for e in os.listdir(DIR) if e.endswith(".raw"))
raw = {}
for name in names:
    with open(f"{DIR}/{name}.raw", "rb") as f:
        raw[name] = f.read()

# --- theirs, read here -----------------------------------------------------------------
read_frames = 0
for entry in sorted(os.listdir(DIR)):
    name = entry.split(".")[0]
    if ".host" not in entry and ".cli" not in entry:
        continue
    with open(f"{DIR}/{entry}", "rb") as f:
        packed = f.read()
    if entry.endswith(".block"):
        assert lz4.block.decompress(packed) == raw[name], entry
        continue
    read_frames += 1
    assert lz4.frame.decompress(packed) == raw[name], entry
    out, used = lz4.frame.decompress(packed, return_bytes_read=True)
    assert used == len(packed), (entry, used, len(packed))
    info = lz4.frame.get_frame_info(packed)
    if ".host-B" in entry:
        bs = max(int(entry.split("-B")[1].split("-")[0]), 4)
        # liblz4 uses a smaller block size when the whole input fits one.
        if len(raw[name]) > 1 << (8 + 2 * bs):
            assert info["block_size_id"] == bs, (entry, info)
        assert info["content_checksum"] is True
        assert info["content_size"] == len(raw[name]), (entry, info)
    # In pieces, at most 65536 bytes per call, as a stream reader uses it.
    d = lz4.frame.LZ4FrameDecompressor()
    pieces = []
    for start in range(0, len(packed), 100_000):
        pieces.append(d.decompress(packed[start:start + 100_000], 65536))
        while not d.needs_input and not d.eof:
            pieces.append(d.decompress(b"", 65536))
    assert d.eof and b"".join(pieces) == raw[name], entry
    with lz4.frame.open(f"{DIR}/{entry}") as f:
        assert f.read() == raw[name], entry

# --- ours, for the host to read ---------------------------------------------------------
written = 0
for name, data in raw.items():
    for bs in host["block_sizes"]:
        for linked in (True, False):
            for checks in (False, True):
                frame = lz4.frame.compress(data, block_size=bs, block_linked=linked,
                                           content_checksum=checks, block_checksum=checks)
                assert lz4.frame.decompress(frame) == data
                with open(f"{DIR}/{name}.guest-B{bs}-{int(linked)}{int(checks)}.lz4", "wb") as f:
                    f.write(frame)
                written += 1
    levels = (3, 9, 16, -10) if len(data) < (2 << 20) else (9, -10)
    for level in levels:
        with open(f"{DIR}/{name}.guest-L{level}.lz4", "wb") as f:
            f.write(lz4.frame.compress(data, compression_level=level, store_size=False))
        written += 1
    # The streaming compressor (auto-flush or not) and the file object, fed in pieces.
    for auto_flush in (False, True):
        c = lz4.frame.LZ4FrameCompressor(block_size=lz4.frame.BLOCKSIZE_MAX256KB,
                                         auto_flush=auto_flush, content_checksum=True)
        parts = [c.begin(source_size=len(data))]
        for start in range(0, len(data), 300_001):
            parts.append(c.compress(data[start:start + 300_001]))
        parts.append(c.flush())
        with open(f"{DIR}/{name}.guest-stream{int(auto_flush)}.lz4", "wb") as f:
            f.write(b"".join(parts))
        written += 1
    with lz4.frame.open(f"{DIR}/{name}.guest-file.lz4", "wb",
                        block_size=lz4.frame.BLOCKSIZE_MAX4MB) as f:
        view = memoryview(data)
        for start in range(0, len(data), 1 << 20):
            f.write(view[start:start + (1 << 20)])
    written += 1
    for mode, kw in (("default", {}), ("fast", {"acceleration": 8}),
                     ("high_compression", {"compression": 12})):
        with open(f"{DIR}/{name}.guest-{mode}.block", "wb") as f:
            f.write(lz4.block.compress(data, mode=mode, **kw))
        written += 1

# A text-mode round trip through open().
with lz4.frame.open(f"{DIR}/text-mode.lz4", "wt", encoding="utf-8") as f:
    f.write("zeile eins\nzweite Zeile äöü\n")
with lz4.frame.open(f"{DIR}/text-mode.lz4", "rt", encoding="utf-8") as f:
    assert f.readlines() == ["zeile eins\n", "zweite Zeile äöü\n"]

# Errors are exceptions, not traps.
for bad, exc in ((b"not a frame", RuntimeError), (lz4.frame.compress(b"x" * 1000)[:-3], RuntimeError)):
    try:
        lz4.frame.decompress(bad)
    except exc:
        pass
    else:
        raise AssertionError(f"{bad!r} decompressed")
try:
    lz4.block.decompress(b"\xff\xff\xff\x7f" + b"\x00" * 8)
except lz4.block.LZ4BlockError:
    pass
else:
    raise AssertionError("a hostile size prefix decompressed")

print(f"lz4: read {read_frames} frames of python-lz4 {host['version']} (liblz4 {host['library']}) "
      f"and the lz4 CLI, wrote {written} frames and blocks with liblz4 "
      f"{lz4.library_version_string()} for them to read")
