"""The bz2 cap's part of the leak check: every kind of cap call, `n` times
(scripts/smoke.py compares linear memory after two values of n)."""
import _bz2

DATA = bytes(range(256)) * 16


def run(n):
    c = _bz2.BZ2Compressor(1)
    packed = c.compress(DATA) + c.flush()
    for _ in range(n):
        c = _bz2.BZ2Compressor(1)             # a resource: created and dropped
        c.compress(DATA)                      # list<u8> in, list<u8> out
        c.flush()
        d = _bz2.BZ2Decompressor()
        d.decompress(packed + b"x", 100)      # the decompressed record
        d.decompress(b"")
        try:
            _bz2.BZ2Decompressor().decompress(b"not bzip2")
        except OSError:                       # the error record, with its string
            pass
