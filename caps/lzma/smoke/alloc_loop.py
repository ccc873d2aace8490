"""The lzma cap's part of the leak check: every kind of cap call, `n` times
(scripts/smoke.py compares linear memory after two values of n). An encoder's setup
fills megabytes of match-finder tables, so compressors are made every 100th round
(a leak there still grows with n)."""
import _lzma

DATA = bytes(range(256)) * 16
FILTER = {"id": _lzma.FILTER_LZMA1, "lc": 3, "lp": 0, "pb": 2, "dict_size": 1 << 16}


def run(n):
    c = _lzma.LZMACompressor(preset=1)
    packed = c.compress(DATA) + c.flush()
    for i in range(n):
        if i % 100 == 0:
            c = _lzma.LZMACompressor(preset=0)    # a resource: created and dropped
            c.compress(DATA)                      # list<u8> in, list<u8> out
            c.flush()
        d = _lzma.LZMADecompressor()
        d.decompress(packed + b"x", 100)          # the decompressed record
        d.decompress(b"")
        props = _lzma._encode_filter_properties(FILTER)   # a record argument
        _lzma._decode_filter_properties(_lzma.FILTER_LZMA1, props)
        try:
            _lzma.LZMADecompressor().decompress(b"not xz at all")
        except _lzma.LZMAError:                   # the error record, with its string
            pass
