"""CPython's own test_ssl (from the pinned source tarball) inside pylon.wasm, against
Pylon's _ssl (the tls cap), for the test classes that need no threads: the module's
API and constants, contexts (loading certificates, keys, CAs, ciphers, versions,
flags), SSLError, MemoryBIO and SSLObject over memory BIOs, and the enumerations. The
classes that run a server in a thread (ThreadedTests, SimpleBackgroundTests, …) need
threads, which WASI does not have.

Every selected test must pass except those in EXPECTED_FAILURES, each with its reason;
a listed test that passes fails this file. Skips are the suite's own and are printed
with their reasons.
"""
import json
import os
import sys
import tempfile

with open("/smoke/host.json") as f:
    host = json.load(f)["cpython_test_ssl"]
sys.path.insert(0, host["python_path"])
work = tempfile.tempdir = "/smoke/tmp-ssl"
os.makedirs(work, exist_ok=True)
os.chdir(work)

import _ssl  # noqa: E402
import cpython_suite  # noqa: E402
from test import test_ssl  # noqa: E402

# Pylon's overlay (a .py in the stdlib zip), not a C module.
assert _ssl.__file__.endswith((".py", ".pyc")), f"not Pylon's _ssl: {_ssl.__file__}"

CLASSES = ["basicsockettests", "contexttests", "sslerrortests", "memorybiotests",
           "sslobjecttests", "testenumerations"]

# Test id (Class.method) -> why it fails on Pylon.
_TLS10 = "no TLS 1.0/1.1 (rustls): ssl.PROTOCOL_TLSv1 and PROTOCOL_TLSv1_1 do not exist"
_IMMUTABLE = ("_ssl is Python here: its classes are ordinary classes, not immutable "
              "C types that refuse instantiation")
_CA_FLAG = ("the cap's certificate info has no basicConstraints CA flag, so every "
            "loaded certificate counts as a CA certificate")
EXPECTED_FAILURES = {
    "BasicSocketTests.test_connect_ex_error": "a port outside the guest's --allow-net "
        "grant is refused by the launcher (EACCES), before any ECONNREFUSED",
    "BasicSocketTests.test_openssl111_deprecations": _TLS10,
    "BasicSocketTests.test_openssl_version": "ssl.OPENSSL_VERSION honestly names rustls, "
        "not OpenSSL or LibreSSL",
    "BasicSocketTests.test_parse_all_sans": "the cap reports DNS, IP, email and URI "
        "names only; OpenSSL also lists othername, x400 and dirName entries",
    "BasicSocketTests.test_read_write_zero": "runs a server in a thread; WASI has no threads",
    "BasicSocketTests.test_ssl_types": _IMMUTABLE,
    "ContextTests.test__create_stdlib_context": _TLS10,
    **{f"test_ssl_types (ssl_type=<class '_ssl.{name}'>)": _IMMUTABLE
       for name in ("Certificate", "MemoryBIO", "SSLError", "SSLSession", "_SSLContext",
                    "_SSLSocket")},
    "ContextTests.test_cert_store_stats": _CA_FLAG,
    "ContextTests.test_get_ca_certs": _CA_FLAG,
    "ContextTests.test_hostname_checks_common_name": "rustls never matches a hostname "
        "against the subject's commonName, so the property is False and stays so",
    "ContextTests.test_load_default_certs_env": "SSL_CERT_DIR is read at once, every "
        "certificate in it; OpenSSL looks certificates up by hash when needed",
    "ContextTests.test_load_dh_params": "no DH parameters: rustls uses ECDHE only",
    "ContextTests.test_min_max_version": "maximum_version below TLS 1.2 is refused "
        "(rustls has no TLS 1.0/1.1)",
    "ContextTests.test_refcycle_msg_callback": "no message callback (_msg_callback)",
    "ContextTests.test_verify_flags": "no CRL checks: VERIFY_CRL_CHECK_* is refused",
    "SSLErrorTests.test_lib_reason": "provokes an OpenSSL error with load_dh_params, "
        "which is NotImplementedError here",
}

cpython_suite.run(test_ssl, EXPECTED_FAILURES, "CPython's test_ssl (no-thread classes) on "
                  "Pylon's _ssl", keywords=CLASSES)
