"""c26b (run from the worktree root after notes/c26b/seed.py 3): whitened factor (fit's report) vs fast path (reload's) vs dense, as the term's sds scale."""
import sys, json, warnings, numpy as np
sys.argv = [sys.argv[0], "/tmp/c26b/seed3.json"]
exec(open("notes/c26b/paths.py").read().split("path = sys.argv[1]")[0])
path = sys.argv[1]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        g = mf.load_fit(path)
    except Exception:
        pass
crit = captured["crit"]; terms, X, y, model = captured["args"]
doc = json.load(open(path))
x0 = np.array(doc["estimates"]["theta"]["values"] + doc["residual"]["phi"]["values"])
lay = crit.layout; D = DenseResidual(lay, X, y, _spanning(lay), model)
for scale in [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10]:
    x = x0.copy(); x[:5] *= scale
    theta, phi = crit.split(x)
    f = crit.factor_at(phi); 
    rep = f.objective(theta, True); fast = crit.objective(x, True); dn = float(D.objective(x, True))
    k = conditioning(f, theta)
    print(f"scale {scale:6g} cond {k:9.3g} whitened-dense {(rep-dn)/max(1,abs(dn)):+.2e} fast-dense {(fast-dn)/max(1,abs(dn)):+.2e} whitened-fast {(rep-fast)/max(1,abs(dn)):+.2e} dense {dn:.10f}")
