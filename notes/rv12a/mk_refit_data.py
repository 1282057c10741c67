"""rv12a: the data of the refit finding (x, Subject, occ of seed 12; y of seed 9 + 0.3 x)."""
import sys
sys.path.insert(0, "/tmp/p11/rv12a")
from variants import load
if __name__ == "__main__":
    d = load(12); d["y"] = load(9)["y"].to_numpy() + 0.3 * d["x"].to_numpy()
    d.to_csv("/tmp/p11/rv12a/refit9on12.csv", index=False, float_format="%.17g")
