"""The leak check's guest driver: `alloc_loop.py N FILE...` runs `run(N)` of every cap's
`smoke/alloc_loop.py` given (scripts/smoke.py maps each as /caps/<cap>/alloc_loop.py) in
this one interpreter. smoke.py runs it with two N under `pylon-launch --report-memory`
and requires the same linear-memory size: a canonical-ABI allocation that is not freed
grows memory with N.
"""
import importlib.util
import sys

n = int(sys.argv[1])
for path in sys.argv[2:]:
    cap = path.rstrip("/").split("/")[-2]
    spec = importlib.util.spec_from_file_location(f"alloc_loop_{cap}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.run(n)
    print(f"alloc loop ({cap}): {n} rounds")
