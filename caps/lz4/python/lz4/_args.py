"""Argument conversion shared by ``lz4.block`` and ``lz4.frame``: what python-lz4's C
functions get from ``PyArg_ParseTupleAndKeywords`` (formats ``y*``, ``z*``, ``i``,
``p``), so the same calls are accepted and refused with the same exception types."""

import operator

import _pylon_runtime as _rt

_INT_MAX = (1 << 31) - 1  # the C int limit lz4.block checks sizes against


def data(value):
    """``y*``: any C-contiguous bytes-like object, never a str. Returned as something
    the cap's ``list<u8>`` arguments take without copying, with its length."""
    view = _rt.buffer(value)
    return view, len(view)


def optional_data(value):
    """``z*``: like ``y*``, but None means "not given" (returned as empty) and a str
    is used as its UTF-8 bytes."""
    if value is None:
        return b"", 0
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return encoded, len(encoded)
    return data(value)


# ``i``: an int (or ``__index__``) that fits a C int.
c_int = _rt.c_int


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
