"""The Python half of the caps' runtime: what CPython's C modules get from the C API.

A cap's Python side (``caps/<cap>/python/``) stands in for a C extension module, so its
functions must accept and refuse arguments as ``PyArg_Parse`` and the ``PyLong_As*``
converters do, raise the cap's WIT ``error`` records as the exceptions the C module
raises, and make types that, like static C types, cannot be subclassed or pickled. These
are the same few conversions in every cap; they live here once. The product ships this
module whenever it ships a cap (pylon-shim writes it beside the generated C modules),
so every cap's Python side may import it, wherever the cap's repository lives.
"""

import operator as _operator
import sys as _sys

__all__ = ["buffer", "c_int", "as_int", "ssize", "unsigned", "raise_error", "final_base"]

_INT_MIN = -(1 << 31)
_INT_MAX = (1 << 31) - 1


def buffer(obj):
    """A ``y*`` / ``PyBUF_SIMPLE`` argument: any C-contiguous bytes-like object, never a
    str. Returned as ``bytes``, ``bytearray`` or a flat byte view, which a generated
    ``list<u8>`` argument takes without a copy."""
    if isinstance(obj, (bytes, bytearray)):
        return obj
    try:
        view = memoryview(obj)
    except TypeError:
        raise TypeError(
            f"a bytes-like object is required, not '{type(obj).__name__}'") from None
    if not view.c_contiguous:
        view.release()
        raise BufferError("memoryview: underlying buffer is not C-contiguous")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def c_int(value):
    """An ``i`` argument of ``PyArg_Parse``: an int (or ``__index__``, never a float)
    that fits a C int."""
    if isinstance(value, float):
        raise TypeError("'float' object cannot be interpreted as an integer")
    value = _operator.index(value)
    if value > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if value < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return value


def as_int(value):
    """``PyLong_AsInt``: an index that fits a C int (the converter's own message)."""
    value = _operator.index(value)
    if not _INT_MIN <= value <= _INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return value


def ssize(value):
    """An ``n`` (``Py_ssize_t``) argument: an index within the platform's ssize_t (32 bits
    on wasm32, so ``sys.maxsize + 1`` is too large, as in CPython there)."""
    value = _operator.index(value)
    if not -_sys.maxsize - 1 <= value <= _sys.maxsize:
        raise OverflowError("Python int too large to convert to C ssize_t")
    return value


def unsigned(value, bits, type_name):
    """``PyLong_AsUnsignedLongLong``, then the range of the C type ``type_name``."""
    if not isinstance(value, int):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    if value < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if value >= 1 << 64:
        raise OverflowError("int too big to convert")
    if value >= 1 << bits:
        raise OverflowError(f"Value too large for {type_name} type")
    return value


def raise_error(wit_error, exceptions, default):
    """Raises the cap's WIT ``error`` record (``wit_error.args[0]``, with ``kind`` and
    ``message``) as the exception ``exceptions[kind]`` (``default`` for a kind not in it),
    without the ``WitError`` as context. A ``MemoryError`` without a message is raised
    bare, as ``PyErr_NoMemory`` does."""
    failure = wit_error.args[0]
    kind = exceptions.get(failure.kind, default)
    if kind is MemoryError and not failure.message:
        raise MemoryError from None
    raise kind(failure.message) from None


def final_base(module):
    """A base class for types that stand in for ``module``'s static C types: a subclass
    of one of them is refused (no ``Py_TPFLAGS_BASETYPE``) and instances cannot be
    pickled, with CPython's messages."""

    class Final:
        __slots__ = ()

        def __init_subclass__(cls, **kwargs):
            if Final not in cls.__bases__:
                raise TypeError(f"type '{module}.{cls.__bases__[0].__name__}' "
                                "is not an acceptable base type")
            super().__init_subclass__(**kwargs)

        def __reduce__(self):
            raise TypeError(f"cannot pickle '{module}.{type(self).__name__}' object")

        def __reduce_ex__(self, protocol):
            return self.__reduce__()

    return Final
