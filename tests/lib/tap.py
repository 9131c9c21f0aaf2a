"""TAP-style reporting for Python test suites (counted by tests/run.sh).

Use: from tap import case, done
     @case
     def replay_gets_409(): ...        # any exception = "not ok"
     done()                            # exits 1 if anything failed
"""
import sys
import traceback

_n = 0
_failed = 0
_cases = []


def case(fn):
    _cases.append(fn)
    return fn


def check(cond, msg=""):
    if not cond:
        raise AssertionError(msg)


def run(cases=None):
    global _n, _failed
    for fn in cases or _cases:
        _n += 1
        try:
            fn()
            print(f"ok {_n} - {fn.__name__}", flush=True)
        except Exception:
            _failed += 1
            print(f"not ok {_n} - {fn.__name__}", flush=True)
            for line in traceback.format_exc().splitlines():
                print("  " + line, flush=True)


def done():
    run()
    sys.exit(1 if _failed else 0)
