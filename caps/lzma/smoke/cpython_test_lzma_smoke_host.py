"""Host side of cpython_test_lzma_smoke.py: CPython's own Lib/test/test_lzma.py (with
test.support) from the source tarball this pylon.wasm was built from."""
import cpython_source


def prepare(scratch):
    lib = cpython_source.extract_tests(f"{scratch}/cpython-lib-lzma",
                                       ["test_lzma.py", "support/"])
    return {"python_path": "/smoke" + lib[len(scratch):]}


def check(scratch):
    return []
