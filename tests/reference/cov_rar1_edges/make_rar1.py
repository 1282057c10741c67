"""Held-out seeds 3 and 4 of the rar1 generator (../cov_rar1_limit/make_rar1_limit_data.py; reviewer
rv10, session 10). Run in this directory: python make_rar1.py -> rar1_s3.csv, rar1_s4.csv."""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cov_rar1_limit"))
    from make_rar1_limit_data import simulate

    for seed in [3, 4]:
        simulate(seed).to_csv(f"rar1_s{seed}.csv", index=False, float_format="%.17g")
