"""The hashing cap's part of the leak check (see caps/zlib/smoke/alloc_loop.py): every
kind of cap call, `n` times, through the generated module directly, so this runs with or
without the overlays.
"""
import _pylon_hashing


def run(n):
    data = bytes(range(256)) * 4
    hc = _pylon_hashing.hashing
    hk = _pylon_hashing.kdf
    key = bytes(range(32))
    for _ in range(n):
        h = hc.Hasher((hc.ALGORITHM_BLAKE3_KEYED, key))  # variant with a list<u8> payload
        h.update(data)
        h.digest(100)                         # option<u32> argument, result<list<u8>> result
        twin = h.copy()                       # own<hasher> result: a second handle
        twin.update(data)
        twin.digest(None)
        del twin                              # dropped by tp_dealloc
        h.close()                             # dropped by close()
        hc.hash((hc.ALGORITHM_BLAKE3_DERIVE_KEY, "alloc loop context"), data, None)  # string payload
        hc.hash((hc.ALGORITHM_XXH3_128, 2**64 - 1), data, None)                    # u64 payload
        hk.pbkdf2_hmac("sha256", data, b"salt", 2, None)
        hk.scrypt(b"pw", b"salt", 16, 1, 1, 0, 32)  # the cap's work area, allocated and freed
        try:
            hk.pbkdf2_hmac("no-such-hash", b"pw", b"salt", 1, None)  # error record + message
        except _pylon_hashing.WitError:
            pass
        try:
            hc.Hasher((hc.ALGORITHM_BLAKE3_KEYED, b"short"))        # fallible constructor
        except _pylon_hashing.WitError:
            pass
