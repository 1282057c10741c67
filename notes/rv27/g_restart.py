import sys, warnings, pandas as pd, mixedfit as mf
from mixedfit.engine.residual import multistart as ms
H='/work/wt-rv27/tests/reference/cov_rar1_multi/'
seed, method = sys.argv[1], sys.argv[2]
patch = int(sys.argv[3]) if len(sys.argv) > 3 else None
if patch: ms.RESTART_EVALS = patch
orig = ms._run
def run(fit_one, model, x0, budget):
    r = orig(fit_one, model, x0, budget)
    if r is not None: print(f'  restart budget={budget} evals={r.record.evaluations} obj={r.objective:.10f} conv={r.record.converged} msg={r.record.message[:80]!r}', flush=True)
    return r
ms._run = run
d = pd.read_csv(H + f'hedge_{seed}.csv')
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    fit = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=method == "REML", residual=mf.AR1("occ", "Subject"))
print(seed, method, 'RESTART_EVALS', ms.RESTART_EVALS, 'loglik', repr(fit.loglik), 'conv', fit.converged, [(type(x.message).__name__, str(x.message)[:200]) for x in w])
r = fit._engine.record
print('final record: start', r.start, 'evals', r.evaluations, 'conv', r.converged, 'msg', r.message[:200], 'check', None if fit._engine.check is None else fit._engine.check.message)
