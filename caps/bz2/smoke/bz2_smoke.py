"""bz2 cap smoke test, run inside pylon.wasm by scripts/smoke.py (`make smoke`): the
stdlib's bz2, tarfile's bz2 mode and zipfile's ZIP_BZIP2 over Pylon's _bz2, with data
the host's libbzip2 wrote and checks the host reads back.
The first line printed is the summary shown when it passes."""
import bz2
import io
import json
import tarfile
import zipfile

with open("/smoke/host.json") as f:
    host = json.load(f)["bz2"]
text = bytes.fromhex(host["text"])

# The host's libbzip2 output decompresses here, and ours is byte-identical to it
# (same algorithm, same block size).
assert bz2.decompress(bytes.fromhex(host["host_bz2"])) == text
for level in (1, 9):
    ours = bz2.compress(text, level)
    assert ours.hex() == host["host_levels"][str(level)], f"level {level} differs"

# Streaming with max_length, multi-stream files, trailing data.
d = bz2.BZ2Decompressor()
packed = bz2.compress(text)
out = d.decompress(packed, 100)
assert len(out) == 100 and not d.needs_input
while not d.eof:
    out += d.decompress(b"", 4096)
assert out == text and d.unused_data == b""
assert bz2.decompress(packed + packed) == text + text
d = bz2.BZ2Decompressor()
d.decompress(packed + b"tail")
assert d.eof and d.unused_data == b"tail"
try:
    d.decompress(b"x")
except EOFError:
    pass
else:
    raise AssertionError("decompress after the end did not raise EOFError")
try:
    bz2.decompress(b"this is not bzip2 data")
except OSError as e:
    assert "Invalid data stream" in str(e), e
else:
    raise AssertionError("bad data did not raise OSError")

# Written here, read back by the host (check()).
with open("/smoke/ours.bz2", "wb") as f:
    f.write(bz2.compress(text))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
    info = tarfile.TarInfo("hello.txt")
    info.size = len(text)
    tar.addfile(info, io.BytesIO(text))
with open("/smoke/ours.tar.bz2", "wb") as f:
    f.write(buf.getvalue())
with tarfile.open("/smoke/ours.tar.bz2", "r:bz2") as tar:
    assert tar.extractfile("hello.txt").read() == text
with zipfile.ZipFile("/smoke/ours.zip", "w", compression=zipfile.ZIP_BZIP2) as z:
    z.writestr("hello.txt", text)
with zipfile.ZipFile("/smoke/ours.zip") as z:
    assert z.read("hello.txt") == text

print(f"bz2: {len(text)} bytes round-trip, identical to the host's libbzip2 at levels 1 "
      "and 9; tar.bz2 and ZIP_BZIP2 written for the host")
