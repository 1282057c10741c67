"""pytest plugin (rv27): log every derivative_check that returns NOT_CHECKED, and every final fit carrying it."""
import os, traceback
from mixedfit.engine.residual import fit as fm, polish
LOG = os.environ.get("NC_LOG", "/tmp/p17/rv27/nc.log")
_orig = fm._derivative_check
def wrapped(crit, best, reml, n, grad, room):
    rec, check = _orig(crit, best, reml, n, grad, room)
    if polish.NOT_CHECKED in rec.message:
        stack = [f"{f.name}:{f.lineno}" for f in traceback.extract_stack()[-12:-1] if "mixedfit" in f.filename]
        with open(LOG, "a") as fh:
            fh.write(f"NOT_CHECKED room={room} m={best.theta.size} evals={best.evaluations} obj={best.objective:.10g} stack={stack} test={os.environ.get('PYTEST_CURRENT_TEST')}\n")
    return rec, check
fm._derivative_check = wrapped
_orig_fr = fm.fit_residual
