"""Names that are not UTF-8 inside pylon.wasm, run by scripts/smoke.py.

WASI hands paths and host names to the host as component-model strings, which must
be UTF-8; a guest that passed anything else used to be killed by a wasm trap. Now each
call fails like any other OS error: EILSEQ for a file name (wasi-libc checks paths),
gaierror for a host name (cpython-ext/_pylon_wasi_libc checks those). Valid names,
including non-ASCII ones, still work.
"""
import errno
import os
import socket

base = "/smoke/wasi-strings"
os.makedirs(base, exist_ok=True)
raw = os.fsencode(base) + b"/caf\xe9"         # Latin-1, not UTF-8
escaped = os.fsdecode(raw)                    # the same name as a surrogate-escaped str
assert escaped.endswith("caf\udce9"), ascii(escaped)
surrogate = base + "/x\ud800"                 # a lone surrogate: not encodable either


def refused(call, *args):
    try:
        call(*args)
    except OSError as e:
        assert e.errno == errno.EILSEQ, (call.__name__, args, e)
        return
    raise AssertionError(f"{call.__name__}{args!r} did not fail")


for name in (raw, escaped):
    refused(os.stat, name)
    refused(os.lstat, name)
    refused(os.open, name, os.O_WRONLY | os.O_CREAT)
    refused(open, name, "wb")
    refused(os.mkdir, name)
    refused(os.rmdir, name)
    refused(os.unlink, name)
    refused(os.listdir, name)
    refused(os.utime, name)
    refused(os.readlink, name)
    refused(os.rename, base + "/absent", name)
    refused(os.symlink, "target", name)
    # The link's target is a string for the host too.
    refused(os.symlink, name, base + "/link")
    assert not os.path.exists(name)
try:
    os.stat(surrogate)
except UnicodeEncodeError:
    pass  # CPython refuses to encode a lone surrogate before any call
else:
    raise AssertionError("a lone surrogate was encoded")

# Host names: gaierror, not a trap (the lookup is refused before any network use).
for host in (b"caf\xe9.example", "caf\udce9.example".encode("utf-8", "surrogateescape")):
    try:
        socket.getaddrinfo(host, 80)
    except socket.gaierror:
        pass
    else:
        raise AssertionError(f"getaddrinfo({host!r}) did not fail")

# Valid names are unaffected, non-ASCII included; so is listing what the host holds.
good = base + "/caf\u00e9-\u4e2d.txt"
with open(good, "w") as f:
    f.write("ok")
os.rename(good, good + ".moved")
assert os.listdir(base) == ["caf\u00e9-\u4e2d.txt.moved"], os.listdir(base)
os.symlink("caf\u00e9-\u4e2d.txt.moved", base + "/link-\u00e9")
assert os.readlink(base + "/link-\u00e9") == "caf\u00e9-\u4e2d.txt.moved"
with open(base + "/link-\u00e9") as f:
    assert f.read() == "ok"
os.unlink(base + "/link-\u00e9")
os.unlink(good + ".moved")
os.rmdir(base)
print("wasi strings: OK")
