"""The lz4 cap's part of the leak check: every kind of cap call, `n` times
(scripts/smoke.py compares linear memory after two values of n)."""
import lz4.block
import lz4.frame

DATA = bytes(range(256)) * 8


def run(n):
    frame = lz4.frame.compress(DATA, content_checksum=True)
    block = lz4.block.compress(DATA)
    for _ in range(n):
        lz4.block.decompress(lz4.block.compress(DATA, dict=DATA[:512]), dict=DATA[:512])
        lz4.block.compress(DATA, mode="high_compression", compression=3)
        try:
            lz4.block.decompress(block[:-5])                # the error variant
        except lz4.block.LZ4BlockError:
            pass
        lz4.frame.decompress(frame)                         # a resource, created and dropped
        lz4.frame.get_frame_info(frame)                     # the frame-info record
        c = lz4.frame.LZ4FrameCompressor(auto_flush=True)
        c.begin()
        c.compress(DATA)
        c.flush()
        d = lz4.frame.LZ4FrameDecompressor()
        d.decompress(frame, 1000)                           # the decompressed record
        try:
            lz4.frame.decompress(b"\x04\x22\x4d\x18 bad")    # the library-error record
        except RuntimeError:
            pass
