"""rv12a: toep term + AR1 residual on seed 11 (R dense: interior 7.77816209 at phi 0.9365; edge +1 7.76209726)."""
import sys, warnings
sys.path.insert(0, "/tmp/p11/rv12a")
from variants import load
from probe_edge import fit
if __name__ == "__main__":
    d = load(11)
    for name, dd in (("as", d), ("perm", d.sample(frac=1, random_state=0).reset_index(drop=True))):
        f, ws, t = fit(dd, formula="y ~ x + toep(0 + occf | Subject)")
        print(name, f"ll={f.loglik:.8f}", f.residual.params.to_dict(), "evals", f.optimizer.evaluations, "conv", f.optimizer.converged, [w[0] + ":" + w[1] for w in ws], flush=True)
        print("   theta", f.optimizer.theta if hasattr(f.optimizer, "theta") else "", flush=True)
