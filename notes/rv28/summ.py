import json,sys
for f in sys.argv[1:]:
    for l in open(f):
        r=json.loads(l)
        ws=[w for w in r.get("warnings",[]) if not w.startswith("SingularFitWarning")]
        bad = ("error" in r) or (not r.get("conv")) or abs(r.get("d_orig") or 0)>1e-6 or (r.get("d_r") is not None and r["d_r"]< -1e-6) or ws
        if bad: print(r["case"],r["t"],r.get("loglik"),"d_r=%s"%r.get("d_r"),"d_orig=%s"%r.get("d_orig"),r.get("conv"),r.get("evals"),round(r.get("cpu",0),1),r.get("error"),[w[:200] for w in ws])
