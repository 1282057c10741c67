"""The mixedfit command, run as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).parent / "reference" / "extra"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mixedfit.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_fit_bundled_dataset():
    out = run("fit", "sleepstudy", "Reaction ~ Days + (Days|Subject)")
    assert out.returncode == 0, out.stderr
    assert "REML criterion at convergence: 1743.6283" in out.stdout


def test_fit_ml_from_csv(tmp_path):
    import mixedfit as mf

    path = tmp_path / "d.csv"
    mf.load_dataset("dyestuff").to_csv(path, index=False)
    out = run("fit", str(path), "Yield ~ 1 + (1|Batch)", "--ml")
    assert out.returncode == 0, out.stderr
    assert "deviance at convergence: 327.3271" in out.stdout


def test_weights_option(tmp_path):
    import mixedfit as mf

    df = mf.load_dataset("sleepstudy")
    df["w"] = 1.0 + df["Days"] % 3
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    out = run("fit", str(path), "Reaction ~ Days + (Days|Subject)", "--weights", "w")
    assert out.returncode == 0, out.stderr
    ref = json.loads((REFERENCE / "sleepstudy_weights_reml.json").read_text())
    assert f"REML criterion at convergence: {ref['objective']:.4f}" in out.stdout


def test_bad_formula_exit_code():
    out = run("fit", "sleepstudy", "Reaction ~ Days | Subject")
    assert out.returncode == 2
    assert "'|' outside parentheses" in out.stderr


def test_unknown_dataset_exit_code():
    out = run("fit", "nope", "y ~ x")
    assert out.returncode == 2 and "no bundled data set named 'nope'" in out.stderr


def test_datasets_and_help():
    out = run("datasets")
    assert out.returncode == 0 and "sleepstudy" in out.stdout
    out = run("--help")
    assert out.returncode == 0 and "examples:" in out.stdout
