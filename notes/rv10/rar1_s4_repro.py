"""rv10 finding: ML fit of y ~ x + ar1(0 + occf | Subject, hom=False), residual AR1(occ, Subject) on held-out
rar1_s4.csv (make_rar1.py: seed 4 of tests/reference/cov_rar1_limit/make_rar1_limit_data.py) runs to the
φ → −1 edge and its ConvergenceWarning names that edge, while the supremum is at φ → +1 (R dense,
rar1_dense.R rar1_s4: ML interior/edge +1 1.289726, edge −1 1.240403; REML edge +1 −7.974782).
Run: PYTHONPATH=<tree> python rar1_s4_repro.py"""
import json, warnings
import pandas as pd
import mixedfit as mf
df = pd.read_csv("/tmp/p10/rv10/data/rar1_s4.csv")
for reml in [True, False]:
    R = json.load(open(f"/tmp/p10/rv10/rar1_dense_rar1_s4_{'REML' if reml else 'ML'}.json"))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        f = mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", df, reml=reml, residual=mf.AR1("occ", "Subject"))
    print("REML" if reml else "ML", f"mixedfit ℓ {f.loglik:.6f} φ {f.residual.params['Phi']:.6f} | R best {R['best_loglik']:.6f} (φ {R['best_phi']}), edge +1 {R['edge_plus1_loglik']:.6f}, edge −1 {R['edge_minus1_loglik']:.6f}, limit GLS {R['limit_gls_loglik']:.6f}")
    for w in seen:
        print("   ", w.category.__name__, str(w.message)[:400])
