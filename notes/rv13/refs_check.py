"""rv13: every shared reference in /work/shared/reference/cov matched at issue 12's tolerances."""
import json, glob, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd
import mixedfit as mf

REF = Path("/work/shared/reference/cov"); DATA = Path("/work/shared/data/cov")
schema = json.loads((DATA / "schema.json").read_text())

def load(fname):
    key = [k for k, v in schema.items() if v["file"] == fname][0]
    f = schema[key]["factors"]
    df = pd.read_csv(DATA / fname, dtype={k: str for k in f})
    for c, lv in f.items():
        df[c] = pd.Categorical(df[c], categories=lv)
    return df

only = sys.argv[1:]
for path in sorted(REF.glob("*.json")):
    ref = json.loads(path.read_text())
    if only and not any(o in path.name for o in only):
        continue
    py = ref["python"]
    st = eval(py["residual"], {"mf": mf}) if py["residual"] else None
    df = load(ref["data"])
    t0 = time.process_time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        if st is None:
            fit = mf.lmer(py["formula"], df, reml=py["reml"])
        else:
            fit = mf.lmer(py["formula"], df, reml=py["reml"], residual=st)
    cpu = time.process_time() - t0
    out = []
    ll_rel = abs(fit.loglik - ref["loglik"]) / abs(ref["loglik"])
    out.append(f"ll_rel={ll_rel:.1e}{' FAIL' if ll_rel > 1e-6 else ''}")
    b = pd.Series(ref["beta"]); se = pd.Series(ref["se"])
    fe = fit.fixef.reindex(b.index)
    ct = fit.coef_table()
    myse = ct["std_error"]
    myse = myse.reindex(se.index)
    scale = np.maximum(b.abs(), se)
    bd = ((fe - b).abs() / scale).max()
    out.append(f"beta={bd:.1e}{' FAIL' if not bd <= 1e-4 else ''}")
    sd = ((myse - se).abs() / se).max()
    out.append(f"se={sd:.1e}{' FAIL' if not sd <= 1e-3 else ''}")
    if "df" in ref and ref.get("ddf"):
        ddf = ref["ddf"]
        try:
            ct2 = fit.coef_table(ddf=ddf)
            dcol = [c for c in ct2.columns if c.lower() in ("df", "ddf")][0]
            rdf = pd.Series(ref["df"]); mydf = ct2[dcol].reindex(rdf.index)
            dd = ((mydf - rdf).abs() / rdf).max()
            out.append(f"df[{ddf}]={dd:.1e}{' FAIL' if not dd <= 1e-3 else ''}")
            if ref.get("se_kr"):
                sk = pd.Series(ref["se_kr"]); mysk = ct2["std_error"].reindex(sk.index)
                skd = ((mysk - sk).abs() / sk).max()
                out.append(f"se_kr={skd:.1e}{' FAIL' if not skd <= 1e-3 else ''}")
        except Exception as e:
            out.append(f"df ERROR {type(e).__name__}: {e}")
    if ref.get("sigma") is not None:
        out.append(f"sigma_rel={abs(fit.sigma-ref['sigma'])/ref['sigma']:.1e}")
    if ref.get("residual_cov") and st is not None:
        rc = ref["residual_cov"]
        try:
            m = np.asarray(fit.residual_cov(subject=rc["subject"]))
            R = np.asarray(rc["matrix"])
            # compare the sub-block for the rows given (1-based visit positions)
            if m.shape != R.shape:
                idx = np.array(rc["rows"]) - 1
                m2 = m[np.ix_(idx, idx)] if m.shape[0] > max(idx) else m
            else:
                m2 = m
            out.append(f"Rblock_rel={np.abs(m2-R).max()/np.abs(R).max():.1e} shape{m.shape}")
        except Exception as e:
            out.append(f"residual_cov ERROR {type(e).__name__}: {e}")
    ws = sorted({type(x.message).__name__ for x in w})
    print(f"{path.stem}: {' '.join(out)} cpu={cpu:.1f}s warn={ws}", flush=True)
