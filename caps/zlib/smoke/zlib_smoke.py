"""zlib cap smoke test, run inside pylon.wasm by scripts/smoke.py.

crc32/adler32 and decompression results are compared with values the host's CPython
computed (zlib_smoke_host.py, via /smoke/host.json); compressed output is written to /smoke/zlib-out/ and the
harness decompresses it with the host's zlib afterwards.
"""
import gzip
import io
import json
import os
import tarfile
import zipfile
import zlib

with open("/smoke/host.json") as f:
    host = json.load(f)["zlib"]

inputs = {name: bytes.fromhex(h) for name, h in host["inputs"].items()}

for name, data in inputs.items():
    want = host["checks"][name]
    assert zlib.crc32(data) == want["crc32"], (name, zlib.crc32(data), want["crc32"])
    assert zlib.adler32(data) == want["adler32"], (name, zlib.adler32(data), want["adler32"])
    assert zlib.crc32(data[100:], zlib.crc32(data[:100])) == want["crc32"], name
    # The host's compressed stream decompresses to the input here.
    assert zlib.decompress(bytes.fromhex(want["host_deflate"])) == data, name
    for level in (0, 1, 6, 9):
        c = zlib.compress(data, level)
        assert zlib.decompress(c) == data, (name, level)
    for wbits in (-15, 15, 31):
        co = zlib.compressobj(6, zlib.DEFLATED, wbits)
        stream = b"".join(co.compress(data[i:i + 4096]) for i in range(0, len(data), 4096))
        stream += co.flush()
        do = zlib.decompressobj(wbits)
        out = b""
        rest = stream
        while rest:  # bounded output, fed back through unconsumed_tail
            out += do.decompress(rest, 1000)
            rest = do.unconsumed_tail
        out += do.flush()
        assert out == data and do.eof, (name, wbits)
    os.makedirs("/smoke/zlib-out", exist_ok=True)
    with open(f"/smoke/zlib-out/{name}.z", "wb") as f:
        f.write(zlib.compress(data, 9))
    with gzip.open(f"/smoke/zlib-out/{name}.gz", "wb") as f:
        f.write(data)

# Constants and errors as CPython defines them.
assert (zlib.MAX_WBITS, zlib.DEFLATED, zlib.Z_FINISH, zlib.Z_BEST_COMPRESSION) == (15, 8, 4, 9)
try:
    zlib.decompress(b"not a zlib stream")
except zlib.error as e:
    assert "incorrect header check" in str(e), str(e)
else:
    raise AssertionError("zlib.error not raised")
try:
    zlib.compressobj(strategy=99)
except ValueError:
    pass
else:
    raise AssertionError("ValueError not raised for a bad strategy")

# A preset dictionary.
zdict = b"common words that repeat common words"
co = zlib.compressobj(zdict=zdict)
c = co.compress(b"common words that repeat") + co.flush()
do = zlib.decompressobj(zdict=zdict)
assert do.decompress(c) == b"common words that repeat"

# copy() gives independent streams.
co = zlib.compressobj()
head = co.compress(b"a" * 1000)
twin = co.copy()
assert head + co.flush() != b"" and zlib.decompress(head + twin.flush()) == b"a" * 1000

# gzip, zipfile and tarfile on top of zlib.
payload = inputs["text"]
assert gzip.decompress(gzip.compress(payload)) == payload
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("a.txt", payload)
    z.writestr("b.bin", inputs["random"])
with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
    assert z.read("a.txt") == payload and z.read("b.bin") == inputs["random"]
    assert z.testzip() is None
with open("/smoke/zlib-out/archive.zip", "wb") as f:
    f.write(buf.getvalue())
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as t:
    info = tarfile.TarInfo("payload.txt")
    info.size = len(payload)
    t.addfile(info, io.BytesIO(payload))
with tarfile.open(fileobj=io.BytesIO(buf.getvalue()), mode="r:gz") as t:
    assert t.extractfile("payload.txt").read() == payload

print("zlib smoke: OK")
