"""Time the stages before the engine (formula, design, canonical rows) on the small models, A/B.

Usage, from the repository root::

    python benchmarks/design_stages.py                     # this checkout, caches on and off
    python benchmarks/design_stages.py --against REV       # and a git revision (e.g. main)

Each variant runs in its own worker process (``PYTHONPATH`` pointing at its ``mixedfit``); the
driver asks the workers in turn for a few calls per model, alternating which goes first, so all
variants see the same machine load. Each stage is timed right after a whole ``lmer`` call, as a
user's repeated fits run it (cold caches after the engine's work): the medians of many
interleaved rounds, in microseconds. The load average is printed next to the numbers; on a
loaded machine compare the variants of one run, not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
    ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"),
    ("Orthodont", "distance ~ age + (age|Subject)"),
    ("Pastes", "strength ~ 1 + (1|batch/cask)"),
]
STAGES = ("parse", "design", "canonical", "whole")

WORKER = """
import json, sys, time, warnings
import mixedfit as mf
from mixedfit.design import build_design, canonical_rows
from mixedfit.formula import parse_formula
MODELS = json.loads(sys.argv[1])
if sys.argv[2] == "off":
    from mixedfit.formula import memo
    CACHES_OFF = memo.caches_disabled()  # kept: the block ends when it is collected
    CACHES_OFF.__enter__()
warnings.simplefilter("ignore")
data = {d: mf.load_dataset(d) for d, _ in MODELS}
for d, f in MODELS:
    mf.lmer(f, data[d])
print("ready", flush=True)
for line in sys.stdin:
    i, k = map(int, line.split())
    d, f = MODELS[i]
    df = data[d]
    out = {s: [] for s in ("parse", "design", "canonical", "whole")}
    for _ in range(k):
        mf.lmer(f, df)
        t0 = time.perf_counter(); p = parse_formula(f); t1 = time.perf_counter()
        mf.lmer(f, df)
        t2 = time.perf_counter(); design = build_design(p, df); t3 = time.perf_counter()
        mf.lmer(f, df)
        t4 = time.perf_counter(); canonical_rows(design); t5 = time.perf_counter()
        t6 = time.perf_counter(); mf.lmer(f, df); t7 = time.perf_counter()
        for s, t in zip(out, (t1 - t0, t3 - t2, t5 - t4, t7 - t6)):
            out[s].append(t)
    print(json.dumps(out), flush=True)
"""


def _export(rev: str, into: Path) -> Path:
    """``mixedfit`` of a git revision, extracted under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "mixedfit"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _start(path: Path, caches: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(path), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(MODELS), caches],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError(f"worker for {path} failed to start")
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", help="a git revision to compare with (e.g. main)")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default 30)")
    parser.add_argument("--calls", type=int, default=5, help="calls per model and round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        variants = {"caches on": (ROOT, "on"), "caches off": (ROOT, "off")}
        if args.against:
            variants = {args.against: (_export(args.against, Path(tmp)), "on"), **variants}
        procs = {name: _start(path, caches) for name, (path, caches) in variants.items()}
        times: dict[str, dict[int, dict[str, list[float]]]] = {
            name: {i: {s: [] for s in STAGES} for i in range(len(MODELS))} for name in procs
        }
        for r in range(args.rounds):
            for i in range(len(MODELS)):
                order = list(procs) if r % 2 == 0 else list(procs)[::-1]
                for name in order:
                    proc = procs[name]
                    assert proc.stdin is not None and proc.stdout is not None
                    proc.stdin.write(f"{i} {args.calls}\n")
                    proc.stdin.flush()
                    for stage, values in json.loads(proc.stdout.readline()).items():
                        times[name][i][stage].extend(values)
        for proc in procs.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; medians in microseconds")
    print(f"{'model':11s} {'stage':9s} " + " ".join(f"{name:>12s}" for name in procs))
    for i, (data, _) in enumerate(MODELS):
        for stage in STAGES:
            cells = [1e6 * statistics.median(times[name][i][stage]) for name in procs]
            print(f"{data:11s} {stage:9s} " + " ".join(f"{c:12.0f}" for c in cells))


if __name__ == "__main__":
    main()
