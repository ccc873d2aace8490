"""The zlib cap's part of the leak check: every kind of cap call, `n` times.

scripts/smoke.py runs each cap's `smoke/alloc_loop.py` (through tests/alloc_loop.py) with
two values of n under `pylon-launch --report-memory` and requires the same linear-memory
size: a canonical-ABI allocation that is not freed grows memory with n.
"""
import zlib


def run(n):
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
