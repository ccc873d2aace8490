"""@MODULE@: the Python side of the @NAME@ cap, over the generated `_pylon_@MODULE@`."""
from _pylon_@MODULE@ import @MODULE@ as _cap

__all__ = ["greet"]


def greet(who):
    """The cap's greeting for `who` (a str)."""
    if not isinstance(who, str):
        raise TypeError(f"greet() argument must be str, not {type(who).__name__}")
    return _cap.greet(who)
