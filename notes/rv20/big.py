"""rv20 Q1: CAR1 fits from MAX_NOBS rows (12,000): white noise (supremum at Phi = 0) and real CAR1 (Phi ~ 0.5),
fit + save/load warnings and values."""
import warnings, numpy as np, pandas as pd, mixedfit as mf
def grab(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always"); r = fn()
    return r, [f"{w.category.__name__}: {str(w.message)[:160]}" for w in seen]
rng = np.random.default_rng(5)
for label, rho in (("white", 0.0), ("car1", 0.5)):
    rows = []
    for i in range(2000):
        t = np.sort(rng.uniform(0, 10, 6)); b = rng.normal(0, 1)
        e = np.empty(6); e[0] = rng.normal()
        for j in range(1, 6):
            c = rho ** (t[j] - t[j - 1]) if rho > 0 else 0.0
            e[j] = c * e[j - 1] + np.sqrt(1 - c * c) * rng.normal()
        rows += [dict(id=f"i{i}", t=t[j], y=1 + 0.2 * t[j] + b + e[j]) for j in range(6)]
    d = pd.DataFrame(rows); d.to_csv(f"big_{label}.csv", index=False, float_format="%.17g")
    for reml in (False,):
        fit, w = grab(lambda: mf.lmer("y ~ t + (1 | id)", d, reml=reml, residual=mf.CAR1("t", "id")))
        print(label, "fit", repr(fit.loglik), fit.residual.params.to_dict(), fit._engine.record.converged, w, flush=True)
        fit.save(f"big_{label}.json")
        g, w2 = grab(lambda: mf.load_fit(f"big_{label}.json"))
        print(label, "load", repr(g.loglik), g._engine.record.converged, w2, flush=True)
