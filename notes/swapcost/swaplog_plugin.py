"""pytest plugin: log every swapped_edge call (node id, sign, spent, gain) to $SWAPLOG."""
import json, os
import pytest
from mixedfit.engine.residual import edge as E

_node = ["?"]
_orig = E.swapped_edge

def _logged(start, record, *a, **k):
    out = _orig(start, record, *a, **k)
    with open(os.environ["SWAPLOG"], "a") as f:
        f.write(json.dumps(dict(node=_node[0], sign=a[4], before=record.objective, fitted=a[-1],
                                after=out.objective, spent=out.evaluations - record.evaluations)) + "\n")
    return out

E.swapped_edge = _logged

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    _node[0] = item.nodeid
    yield

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _node[0] = item.nodeid
    yield
