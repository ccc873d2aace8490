"""`_pylon_runtime` inside pylon.wasm, run by scripts/smoke.py.

The caps' Python sides share these conversions instead of each keeping a copy, so each
must behave as the C API it stands in for: checked here against the real cases of
CPython's argument parser and converters, and with a real cap's WIT error (zlib's).
"""
import array
import pickle
import sys

import _pylon_runtime as rt
import _pylon_zlib


def raises(exc_type, message, call, *args):
    try:
        call(*args)
    except exc_type as e:
        assert message is None or str(e) == message, (call.__name__, args, str(e))
        return e
    raise AssertionError(f"{call.__name__}{args!r} did not raise {exc_type.__name__}")


# y*: bytes and bytearray as they are, other buffers as a flat byte view, never a str.
data = b"abc"
assert rt.buffer(data) is data
ba = bytearray(b"xy")
assert rt.buffer(ba) is ba
view = rt.buffer(array.array("I", [1, 2]))
assert isinstance(view, memoryview) and view.format == "B" and len(view) == 8
raises(TypeError, "a bytes-like object is required, not 'str'", rt.buffer, "abc")
raises(TypeError, "a bytes-like object is required, not 'int'", rt.buffer, 5)
raises(BufferError, "memoryview: underlying buffer is not C-contiguous",
       rt.buffer, memoryview(b"abcdef")[::2])

# i, PyLong_AsInt, n and unsigned ranges, with each converter's own message.
assert rt.c_int(True) == 1 and rt.c_int(-(1 << 31)) == -(1 << 31)
raises(TypeError, "'float' object cannot be interpreted as an integer", rt.c_int, 1.0)
raises(OverflowError, "signed integer is greater than maximum", rt.c_int, 1 << 31)
raises(OverflowError, "signed integer is less than minimum", rt.c_int, -(1 << 31) - 1)
raises(OverflowError, "Python int too large to convert to C int", rt.as_int, 1 << 31)
assert rt.ssize(sys.maxsize) == sys.maxsize
raises(OverflowError, "Python int too large to convert to C ssize_t",
       rt.ssize, sys.maxsize + 1)
assert rt.unsigned((1 << 32) - 1, 32, "uint32_t") == (1 << 32) - 1
raises(OverflowError, "Value too large for uint32_t type", rt.unsigned, 1 << 32, 32, "uint32_t")
raises(OverflowError, "can't convert negative int to unsigned", rt.unsigned, -1, 64, "x")
raises(OverflowError, "int too big to convert", rt.unsigned, 1 << 64, 64, "x")

# A real WIT error record from a cap, raised as the mapped exception without context.
cap = _pylon_zlib.zlib
try:
    cap.decompress(b"not zlib data", 15, 16384)
except _pylon_zlib.WitError as wit:
    mapped = {cap.ERROR_KIND_ZLIB: LookupError}
    e = raises(LookupError, None, rt.raise_error, wit, mapped, ValueError)
    assert e.__suppress_context__ and e.__cause__ is None, e
    assert str(e) == wit.args[0].message
else:
    raise AssertionError("the zlib cap accepted garbage")

# Static C types: no subclass of a subclass, no pickling.
Final = rt.final_base("_demo")


class Thing(Final):
    __slots__ = ()


raises(TypeError, "type '_demo.Thing' is not an acceptable base type",
       type, "Sub", (Thing,), {})
raises(TypeError, "cannot pickle '_demo.Thing' object", pickle.dumps, Thing())

print("_pylon_runtime: buffer, c_int, as_int, ssize, unsigned, raise_error, final_base OK")
