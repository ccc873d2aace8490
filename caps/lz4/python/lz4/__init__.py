"""lz4 for Pylon: the API of the python-lz4 package (``lz4.block``, ``lz4.frame``),
served by the lz4 cap.

The compressed data is made and read by liblz4 1.10.0 inside the lz4 cap (its own
WebAssembly component), reached through the generated ``_pylon_lz4`` module; these
modules do what python-lz4's C extensions do around liblz4 (argument conversion,
the size prefix of blocks, exceptions and their messages) and what its Python part
does (the frame classes and files). Behaviour follows python-lz4 4.4.5.

``lz4.stream``, an experimental part of python-lz4 that its wheels do not build, is
not provided.
"""

import _pylon_lz4

# The python-lz4 release whose API this is, marked as Pylon's own implementation.
__version__ = "4.4.5+pylon"
VERSION = __version__


def library_version_number():
    """The liblz4 version inside the cap as a number (10000 * major + 100 * minor +
    release), e.g. 11000 for 1.10.0."""
    return _pylon_lz4.block.version_number()


def library_version_string():
    """The liblz4 version inside the cap, e.g. "1.10.0"."""
    return _pylon_lz4.block.version_string()
