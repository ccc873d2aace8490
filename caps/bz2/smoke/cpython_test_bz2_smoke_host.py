"""Host side of cpython_test_bz2_smoke.py: CPython's own Lib/test/test_bz2.py (with
test.support) from the source tarball this pylon.wasm was built from."""
import cpython_source


def prepare(scratch):
    lib = cpython_source.extract_tests(
        f"{scratch}/cpython-lib", ["test_bz2.py", "support/"],
        # BaseTest compresses its directory's *.py files until two bzip2 block magics
        # happen to fall on byte boundaries (1 block in 8), and flushes only then: give
        # it every top-level Lib/test/*.py (443 files, 15 MB in 3.13), as upstream has.
        filler_bytes=64 << 20)
    assert lib.startswith(scratch)
    return {"python_path": "/smoke" + lib[len(scratch):]}


def check(scratch):
    return []
