"""Threads: fits of one design with different responses (skeleton served, lazy BLUPs, compiled path)
run concurrently vs serially; digests must agree bit for bit."""
import sys, warnings
from concurrent.futures import ThreadPoolExecutor
import numpy as np
import mixedfit as mf
sys.path.insert(0, "/tmp/p11/rv12c")
from p3_history import digest

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    ss = mf.load_dataset("sleepstudy")
    pen = mf.load_dataset("Penicillin")
    rng = np.random.default_rng(5)
    jobs = []
    for i in range(24):
        if i % 3 == 2:
            d = pen.assign(diameter=pen.diameter + rng.normal(size=len(pen)) * (0.01 if i % 2 else 3))
            jobs.append(("diameter ~ 1 + (1 | plate) + (1 | sample)", d, {"reml": bool(i % 2)}))
        else:
            scale = [1.0, 1e-5, 1e6][i % 3]
            d = ss.assign(Reaction=(ss.Reaction + rng.normal(size=len(ss)) * [1, 60][i % 2]) * scale)
            f = ["Reaction ~ Days + (Days | Subject)", "Reaction ~ 1 + (Days | Subject)"][(i // 3) % 2]
            jobs.append((f, d, {"reml": bool(i % 2)}))
    def run(j):
        return digest(mf.lmer(j[0], j[1], **j[2]))
    serial = [run(j) for j in jobs]
    for rep in range(3):
        with ThreadPoolExecutor(6) as pool:
            par = list(pool.map(run, jobs[::-1]))[::-1]
        bad = [i for i, (a, b) in enumerate(zip(serial, par)) if a != b]
        print("rep", rep, "mismatches:", bad, flush=True)
