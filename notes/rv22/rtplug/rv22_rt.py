"""rv22 pytest plugin: every ResidualModelFit made during a test is saved and loaded after the test
(warnings captured, exceptions logged, test outcome untouched). Log: $RV22_RT_LOG (jsonl)."""
import json, os, tempfile, warnings, traceback
import numpy as np
import pytest

_made = []
_busy = [False]
_seen = set()

def pytest_configure(config):
    from mixedfit.model import residual as R
    orig = R.ResidualModelFit.__init__
    def init(self, *a, **k):
        orig(self, *a, **k)
        if not _busy[0]:
            _made.append(self)
    R.ResidualModelFit.__init__ = init

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield
    import mixedfit as mf
    log = os.environ.get("RV22_RT_LOG", "/tmp/p15/rv22/rt_plugin.jsonl")
    todo = [f for f in _made if id(f) not in _seen]
    _made.clear()
    for fit in todo:
        _seen.add(id(fit))
        rec = dict(test=item.nodeid)
        _busy[0] = True
        try:
            eng = fit._engine
            rec.update(loglik=float(fit.loglik), vanished=None if eng.vanished is None else np.asarray(eng.vanished).tolist(),
                       message=str(getattr(eng.record, "message", ""))[:120], phi=np.asarray(eng.phi).tolist())
            with tempfile.TemporaryDirectory(dir="/tmp/p15/rv22/rttmp") as d:
                p = os.path.join(d, "f.json")
                with warnings.catch_warnings(record=True) as w1:
                    warnings.simplefilter("always")
                    try:
                        fit.save(p)
                    except Exception as e:
                        rec.update(stage="save", error=f"{type(e).__name__}: {e}"[:400])
                        raise
                with warnings.catch_warnings(record=True) as w2:
                    warnings.simplefilter("always")
                    again = mf.load_fit(p)
                rec.update(stage="ok", loglik2=float(again.loglik),
                           load_warnings=[f"{x.category.__name__}: {str(x.message)[:150]}" for x in w2])
        except Exception as e:
            if "stage" not in rec:
                rec.update(stage="load", error=f"{type(e).__name__}: {e}"[:600])
        finally:
            _busy[0] = False
        with open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
