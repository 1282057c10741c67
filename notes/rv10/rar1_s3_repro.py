"""rv10 finding: REML fit of y ~ x + ar1(0 + occf | Subject, hom=False), residual AR1(occ, Subject) on held-out
rar1_s3.csv (seed 3 of the lanes' generator) stops at an interior local optimum φ = 0.918 without any warning,
while R's dense supremum is at the φ → −1 edge (rar1_dense.R rar1_s3). Run: PYTHONPATH=<tree> python rar1_s3_repro.py"""
import json, os, warnings
import pandas as pd
import mixedfit as mf
df = pd.read_csv("/tmp/p10/rv10/data/rar1_s3.csv")
for reml in [True, False]:
    path = f"/tmp/p10/rv10/rar1_dense_rar1_s3_{'REML' if reml else 'ML'}.json"
    R = json.load(open(path)) if os.path.exists(path) else None
    for lab, d in [("as given", df), ("shuffled", df.sample(frac=1, random_state=1).reset_index(drop=True)), ("y+1e4", df.assign(y=df.y + 1e4))]:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=reml, residual=mf.AR1("occ", "Subject"))
        ref = "" if R is None else f"| R best {R['best_loglik']:.6f} (φ {R['best_phi']}), interior {R['interior_loglik']:.6f} (φ {R['interior_phi']:.6f}), edge +1 {R['edge_plus1_loglik']:.6f}, edge −1 {R['edge_minus1_loglik']:.6f}"
        print("REML" if reml else "ML", lab, f"mixedfit ℓ {f.loglik:.6f} φ {f.residual.params['Phi']:.6f} converged {f.optimizer.converged}", ref)
        for w in seen:
            print("   ", w.category.__name__, str(w.message)[:300])
