"""The @NAME@ cap's part of the leak check: every kind of cap call, `n` times
(scripts/smoke.py compares linear memory after two values of n)."""
import _pylon_@MODULE@


def run(n):
    cap = _pylon_@MODULE@.@MODULE@
    for _ in range(n):
        cap.greet("x" * 100)                  # string argument, string result
