"""@NAME@ cap smoke test, run inside pylon.wasm by scripts/smoke.py (`make smoke`).
The first line printed is the summary shown when it passes."""
import @MODULE@

assert @MODULE@.greet("pylon") == "hello, pylon", @MODULE@.greet("pylon")
try:
    @MODULE@.greet(b"bytes")
except TypeError:
    pass
else:
    raise AssertionError("greet(bytes) did not raise TypeError")
print("@NAME@: greet OK")
