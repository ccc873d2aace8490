"""The zstd cap's part of the leak check (see caps/zlib/smoke/alloc_loop.py): every kind
of cap call, `n` times, through the generated module directly, so this runs with or
without the overlays.
"""
import _pylon_zstd


def run(n):
    data = bytes(range(256)) * 4
    zc = _pylon_zstd.zstd
    zdict = (bytes(range(64)) * 4, True)                 # the dictionary record, raw content
    packed = zc.compress(data, 3, zdict)
    opts = zc.CompressOptions((5, True, True, True))
    for _ in range(n):
        zc.compress(data, -1, None)                       # result<list<u8>, error>
        zc.decompress(packed, zdict)                      # record argument with a list<u8>
        zc.frame_info(packed)                             # record result with an option<u64>
        zc.frame_size(packed)
        zc.level_bounds()
        try:
            zc.decompress(b"garbage", None)               # the error record, with its string
        except _pylon_zstd.WitError:
            pass
        c = zc.Compressor.create(opts, zdict)             # a resource: created and dropped
        c.set_pledged_input_size(None)                    # result<_, error>, option<u64>
        c.compress(data, zc.END_DIRECTIVE_CONTINUE)
        c.compress(data, zc.END_DIRECTIVE_FLUSH_BLOCK)
        try:
            c.set_pledged_input_size(10)                  # error: not between frames
        except _pylon_zstd.WitError:
            pass
        del c                                             # dropped mid-frame by tp_dealloc
        c = zc.Compressor.create(opts, None)
        c.compress(data, zc.END_DIRECTIVE_FLUSH_FRAME)
        c.close()                                         # dropped by close()
        d = zc.Decompressor.create(zdict, 20)             # option<u8> argument
        d.decompress(packed + b"tail", 100)               # option<u64>: output held back
        d.needs_input()
        d.decompress(b"", None)
        d.unused_data()                                   # list<u8> from a method
        try:
            d.decompress(b"more", None)                   # already-finished error
        except _pylon_zstd.WitError:
            pass
        del d
        try:
            zc.Decompressor.create(None, 99)              # fallible constructor
        except _pylon_zstd.WitError:
            pass
