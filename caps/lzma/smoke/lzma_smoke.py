"""lzma cap smoke test, run inside pylon.wasm by scripts/smoke.py (`make smoke`): the
stdlib's lzma over Pylon's _lzma in every container format, a custom filter chain,
tarfile's xz mode and zipfile's ZIP_LZMA, with data the host's liblzma wrote and checks
the host reads back. The first line printed is the summary shown when it passes."""
import io
import json
import lzma
import tarfile
import zipfile

with open("/smoke/host.json") as f:
    host = json.load(f)["lzma"]
text = bytes.fromhex(host["text"])

# What the host's liblzma wrote decompresses here, and ours is byte-identical to it.
for name, data in host["host"].items():
    fmt = {"xz": lzma.FORMAT_XZ, "alone": lzma.FORMAT_ALONE}[name]
    assert lzma.decompress(bytes.fromhex(data), fmt) == text, name
for preset in ("0", "6", "9e"):
    level = int(preset[0]) | (lzma.PRESET_EXTREME if preset.endswith("e") else 0)
    ours = lzma.compress(text, preset=level)
    assert ours.hex() == host["presets"][preset], f"preset {preset} differs"

filters = [{"id": lzma.FILTER_DELTA, "dist": 4},
           {"id": lzma.FILTER_X86, "start_offset": 0x40},
           {"id": lzma.FILTER_LZMA2, "preset": 6 | lzma.PRESET_EXTREME}]
raw = lzma.compress(text, lzma.FORMAT_RAW, filters=filters)
assert lzma.decompress(raw, lzma.FORMAT_RAW, filters=filters) == text
assert raw.hex() == host["raw"], "raw filter chain differs from the host's"
for check in (lzma.CHECK_NONE, lzma.CHECK_CRC32, lzma.CHECK_CRC64, lzma.CHECK_SHA256):
    d = lzma.LZMADecompressor()
    assert d.decompress(lzma.compress(text, check=check)) == text and d.check == check
try:
    lzma.decompress(b"not xz data at all")
except lzma.LZMAError as e:
    assert "Input format not supported" in str(e), e
else:
    raise AssertionError("bad data did not raise LZMAError")

with open("/smoke/ours.xz", "wb") as f:
    f.write(lzma.compress(text, check=lzma.CHECK_SHA256))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:xz") as tar:
    info = tarfile.TarInfo("hello.txt")
    info.size = len(text)
    tar.addfile(info, io.BytesIO(text))
with open("/smoke/ours.tar.xz", "wb") as f:
    f.write(buf.getvalue())
with zipfile.ZipFile("/smoke/ours-lzma.zip", "w", compression=zipfile.ZIP_LZMA) as z:
    z.writestr("hello.txt", text)
with zipfile.ZipFile("/smoke/ours-lzma.zip") as z:
    assert z.read("hello.txt") == text

print(f"lzma: {len(text)} bytes, identical to the host's liblzma (xz, alone, presets 0, "
      "6, 9e, a delta+x86+lzma2 raw chain); every check; tar.xz and ZIP_LZMA for the host")
