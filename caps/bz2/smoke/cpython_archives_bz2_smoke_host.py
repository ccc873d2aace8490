"""Host side of cpython_archives_bz2_smoke.py: CPython's own test_tarfile,
test_zipfile (core) and test_shutil with their data files, from the source tarball this
pylon.wasm was built from."""
import cpython_source


def prepare(scratch):
    lib = cpython_source.extract_tests(
        f"{scratch}/cpython-lib-archives-bz2",
        ["test_tarfile.py", "test_zipfile/", "test_shutil.py", "archiver_tests.py",
         "archivetestdata/", "support/"])
    return {"python_path": "/smoke" + lib[len(scratch):]}


def check(scratch):
    return []
