"""Calls every kind of cap function N times (N = argv[1]); scripts/smoke.py runs it with
two N under `pylon-launch --report-memory` and requires the same linear-memory size:
a canonical-ABI allocation that is not freed grows memory with N.
"""
import sys
import zlib

n = int(sys.argv[1])
data = bytes(range(256)) * 4
packed = zlib.compress(data)
for _ in range(n):
    zlib.crc32(data)                      # list<u8> argument, integer result
    zlib.decompress(packed)               # result<list<u8>, error>: a returned list
    try:
        zlib.decompress(b"garbage")       # the error record, with its string
    except zlib.error:
        pass
    d = zlib.decompressobj()              # a resource: created and dropped
    d.decompress(packed)
    d.unused_data                         # list<u8> from a method
    del d
print(f"alloc loop: {n} rounds")

# --- hashing cap ------------------------------------------------------------------------
# (through the generated module directly, so this runs with or without the overlays)
import _pylon_hashing  # noqa: E402

_hc = _pylon_hashing.hashing
_hk = _pylon_hashing.kdf
_hkey = bytes(range(32))
for _ in range(n):
    h = _hc.Hasher((_hc.ALGORITHM_BLAKE3_KEYED, _hkey))  # variant with a list<u8> payload
    h.update(data)
    h.digest(100)                         # option<u32> argument, result<list<u8>> result
    twin = h.copy()                       # own<hasher> result: a second handle
    twin.update(data)
    twin.digest(None)
    del twin                              # dropped by tp_dealloc
    h.close()                             # dropped by close()
    _hc.hash((_hc.ALGORITHM_BLAKE3_DERIVE_KEY, "alloc loop context"), data, None)  # string payload
    _hc.hash((_hc.ALGORITHM_XXH3_128, 2**64 - 1), data, None)                    # u64 payload
    _hk.pbkdf2_hmac("sha256", data, b"salt", 2, None)
    _hk.scrypt(b"pw", b"salt", 16, 1, 1, 0, 32)  # the cap's work area, allocated and freed
    try:
        _hk.pbkdf2_hmac("no-such-hash", b"pw", b"salt", 1, None)  # error record + message
    except _pylon_hashing.WitError:
        pass
    try:
        _hc.Hasher((_hc.ALGORITHM_BLAKE3_KEYED, b"short"))        # fallible constructor
    except _pylon_hashing.WitError:
        pass
print(f"alloc loop (hashing): {n} rounds")

# --- zstd cap ---------------------------------------------------------------------------
# (through the generated module directly, so this runs with or without the overlays)
import _pylon_zstd  # noqa: E402

_zc = _pylon_zstd.zstd
_zdict = (bytes(range(64)) * 4, True)                 # the dictionary record, raw content
_zpacked = _zc.compress(data, 3, _zdict)
_zopts = _zc.CompressOptions((5, True, True, True))
for _ in range(n):
    _zc.compress(data, -1, None)                       # result<list<u8>, error>
    _zc.decompress(_zpacked, _zdict)                   # record argument with a list<u8>
    _zc.frame_info(_zpacked)                           # record result with an option<u64>
    _zc.frame_size(_zpacked)
    _zc.level_bounds()
    try:
        _zc.decompress(b"garbage", None)               # the error record, with its string
    except _pylon_zstd.WitError:
        pass
    c = _zc.Compressor.create(_zopts, _zdict)          # a resource: created and dropped
    c.set_pledged_input_size(None)                     # result<_, error>, option<u64>
    c.compress(data, _zc.END_DIRECTIVE_CONTINUE)
    c.compress(data, _zc.END_DIRECTIVE_FLUSH_BLOCK)
    try:
        c.set_pledged_input_size(10)                   # error: not between frames
    except _pylon_zstd.WitError:
        pass
    del c                                              # dropped mid-frame by tp_dealloc
    c = _zc.Compressor.create(_zopts, None)
    c.compress(data, _zc.END_DIRECTIVE_FLUSH_FRAME)
    c.close()                                          # dropped by close()
    d = _zc.Decompressor.create(_zdict, 20)            # option<u8> argument
    d.decompress(_zpacked + b"tail", 100)              # option<u64>: output held back
    d.needs_input()
    d.decompress(b"", None)
    d.unused_data()                                    # list<u8> from a method
    try:
        d.decompress(b"more", None)                    # already-finished error
    except _pylon_zstd.WitError:
        pass
    del d
    try:
        _zc.Decompressor.create(None, 99)              # fallible constructor
    except _pylon_zstd.WitError:
        pass
print(f"alloc loop (zstd): {n} rounds")
