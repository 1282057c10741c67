"""h3 ML: which part of the perm transform finds the φ_c = +1 supremum? rows only / grp levels reversed only / Subjects renamed only."""
import sys, warnings
import numpy as np, pandas as pd
sys.path.insert(0, "/tmp/p18/rv28")
import scan28
c = scan28.get_case("by_h3_ML")
d0 = c["data"]()
rng = np.random.default_rng(28)
variants = {
    "rows": d0.iloc[rng.permutation(len(d0))].reset_index(drop=True),
    "grp_cba": d0.assign(grp=pd.Categorical(d0["grp"], categories=["c", "b", "a"])),
}
for k in sys.argv[1:]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = c["fit"](variants[k])
    print(k, f.loglik, f.loglik - 0.675779765020764, f.optimizer.converged, f.optimizer.evaluations,
          {a: round(float(b), 5) for a, b in f.residual.params.items()}, flush=True)
