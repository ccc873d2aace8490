"""Argument conversion shared by ``lz4.block`` and ``lz4.frame``: what python-lz4's C
functions get from ``PyArg_ParseTupleAndKeywords`` (formats ``y*``, ``z*``, ``i``,
``p``), so the same calls are accepted and refused with the same exception types."""

import operator

_INT_MIN = -(1 << 31)
_INT_MAX = (1 << 31) - 1


def data(value):
    """``y*``: any C-contiguous bytes-like object, never a str. Returned as something
    the cap's ``list<u8>`` arguments take without copying, with its length."""
    if isinstance(value, str):
        raise TypeError(f"a bytes-like object is required, not '{type(value).__name__}'")
    if isinstance(value, (bytes, bytearray)):
        return value, len(value)
    view = memoryview(value)
    if not view.c_contiguous:
        raise BufferError("memoryview: underlying buffer is not C-contiguous")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view, view.nbytes


def optional_data(value):
    """``z*``: like ``y*``, but None means "not given" (returned as empty) and a str
    is used as its UTF-8 bytes."""
    if value is None:
        return b"", 0
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return encoded, len(encoded)
    return data(value)


def c_int(value):
    """``i``: an int (or ``__index__``) that fits a C int."""
    if isinstance(value, float):
        raise TypeError("'float' object cannot be interpreted as an integer")
    number = operator.index(value)
    if number > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if number < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return number


def py_ssize(value):
    """``n``: an int that fits a Py_ssize_t (64-bit, as on the hosts python-lz4 is
    built for)."""
    number = operator.index(value)
    if not -(1 << 63) <= number < (1 << 63):
        raise OverflowError("Python int too large to convert to C ssize_t")
    return number


def unsigned_long(value):
    """``k``: an int taken modulo 2**64 (the format does no overflow check)."""
    return operator.index(value) & ((1 << 64) - 1)


def output(result, return_bytearray):
    return bytearray(result) if return_bytearray else result
