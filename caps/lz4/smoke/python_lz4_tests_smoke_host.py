"""Host side of python_lz4_tests_smoke.py: python-lz4's own test suite (tests/block and
tests/frame of its sdist, pinned by digest) and the pinned pytest, staged in the scratch
directory for the guest."""
import os

import pypi_pins

# The python-lz4 release whose API the cap's Python side implements.
PYTHON_LZ4_SDIST = ("lz4-4.4.5.tar.gz",
                    "5f0b9e53c1e82e88c10d7c180069363980136b9d7a8306c4dca4f760d60c39f0")


def prepare(scratch):
    (sdist,) = pypi_pins.fetch([PYTHON_LZ4_SDIST], "python-lz4's test suite")
    root = os.path.join(scratch, "python-lz4")
    # tests/stream is included so that its absence on Pylon is reported by the run.
    pypi_pins.extract_sdist(sdist, root, ["tests/block/", "tests/frame/", "tests/stream/"])
    pypi_pins.stage_pytest(root)
    return {"root": "/smoke/python-lz4"}


def check(scratch):
    return []
