import numpy as np, pandas as pd, subprocess, json
for seed in range(10, 30):
    rng = np.random.default_rng(seed); rows = []
    for s in range(60):
        u = rng.normal()
        for j in range(5):
            b = j == 0; x = rng.normal()
            rows.append(dict(Subject=f"s{s:02d}", x=x, grp="b" if b else "a", y=1 + 0.5 * x + u + (0.15 if b else 1.0) * rng.normal()))
    pd.DataFrame(rows).to_csv(f"g{seed}.csv", index=False)
    out = json.loads(subprocess.run(["/work/main/.venv/bin/python", "f_dense.py", f"g{seed}"], capture_output=True, text=True).stdout)
    print(seed, out["ratio"], out["loglik"], out["profile_loglik"], flush=True)
