"""The version of the python-lz4 API this module provides (``lz4.version.version``)."""
from lz4 import __version__ as version  # noqa: F401
