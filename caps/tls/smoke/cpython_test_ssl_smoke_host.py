"""Host side of cpython_test_ssl_smoke.py: CPython's own Lib/test/test_ssl.py, with
test.support and the certificates it uses (Lib/test/certdata/), from the source
tarball this pylon.wasm was built from."""
import cpython_source


def prepare(scratch):
    lib = cpython_source.extract_tests(f"{scratch}/cpython-lib-ssl",
                                       ["test_ssl.py", "ssl_servers.py", "support/", "certdata/"])
    return {"python_path": "/smoke" + lib[len(scratch):]}


def check(scratch):
    return []


def launcher_args(prepared):
    """A grant, so that the guest may resolve names (even `127.0.0.1` goes through the
    host's resolver under WASI) and open UDP sockets (test_unsupported_dtls); the port
    is the discard service, which nothing here serves: the tests only reach listeners
    of their own, which the guest's own loopback allows."""
    return ["--allow-net=127.0.0.1:9"]
