"""CPU time of the whole call and of a bootstrap replicate, two source trees interleaved.

Usage, from the repository root::

    git archive <commit> | tar -x -C /tmp/old
    python benchmarks/callpath_time.py --trees /tmp/old . [--rounds 6] [--calls 40]

Each round runs one worker process per tree (``PYTHONPATH=<tree>``, working directory ``/tmp``
so that neither imports the other's ``mixedfit``), alternating which tree goes first; a worker
fits each model ``--calls`` times (``mf.lmer(formula, df)``, after warm-up fits that load the
compiled kernel) and times ``fit.bootstrap(nsim)`` on sleepstudy, all in CPU time of the
process (``time.process_time``). Medians over all rounds per tree, and their ratio; the load
average is printed (CPU times grow with it, for both trees alike).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

MODELS = {
    "sleepstudy": ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    "penicillin": ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
    "orthodont": ("orthodont", "distance ~ age + (age|Subject)"),
    "pastes": ("pastes", "strength ~ 1 + (1|batch/cask)"),
}

WORKER = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import mixedfit as mf
models = json.loads(sys.argv[1]); calls, nsim = int(sys.argv[2]), int(sys.argv[3])
frames = {k: mf.load_dataset(d) for k, (d, f) in models.items()}
for k, (d, f) in models.items():
    for _ in range(5):
        mf.lmer(f, frames[k])
boot = mf.lmer(models["sleepstudy"][1], frames["sleepstudy"])
boot.bootstrap(nsim=10, seed=1)
out = {k: [] for k in models}
for _ in range(calls):
    for k, (d, f) in models.items():
        t = time.process_time()
        mf.lmer(f, frames[k])
        out[k].append(time.process_time() - t)
t = time.process_time()
boot.bootstrap(nsim=nsim, seed=2)
out["bootstrap"] = [(time.process_time() - t) / nsim]
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", nargs=2, type=Path, required=True, metavar=("OLD", "NEW"))
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=40, help="whole calls per model and round")
    parser.add_argument("--nsim", type=int, default=200, help="bootstrap replicates per round")
    args = parser.parse_args()
    trees = [t.resolve() for t in args.trees]
    times: dict[Path, dict[str, list[float]]] = {t: {} for t in trees}
    load = [os.getloadavg()[0]]
    for r in range(args.rounds):
        for tree in trees if r % 2 == 0 else trees[::-1]:
            env = dict(os.environ, PYTHONPATH=str(tree), OPENBLAS_NUM_THREADS="1")
            done = subprocess.run(
                [sys.executable, "-c", WORKER, json.dumps(MODELS), str(args.calls), str(args.nsim)],
                env=env,
                cwd="/tmp",
                capture_output=True,
                text=True,
                check=True,
            )
            for key, values in json.loads(done.stdout).items():
                times[tree].setdefault(key, []).extend(values)
        load.append(os.getloadavg()[0])
    print(f"load average {min(load):.2f}–{max(load):.2f}; CPU ms, medians")
    print("| | old | new | new/old |")
    print("|---|---:|---:|---:|")
    for key in [*MODELS, "bootstrap"]:
        old, new = (statistics.median(times[t][key]) * 1e3 for t in trees)
        label = "bootstrap (per replicate)" if key == "bootstrap" else key
        print(f"| {label} | {old:.3f} | {new:.3f} | {new / old:.3f} |")


if __name__ == "__main__":
    main()
