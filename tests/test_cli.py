"""The mixedfit command, run as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_json_output_matches_the_fit():
    out = run("fit", "sleepstudy", "Reaction ~ Days + (Days|Subject)", "--output", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    ref = json.loads((REFERENCE.parent / "sleepstudy_slopes_reml.json").read_text())
    assert doc["objective"] == pytest.approx(ref["objective"], rel=1e-6)
    assert [r["estimate"] for r in doc["fixed_effects"]] == pytest.approx(
        list(ref["beta"].values()), rel=1e-4
    )
    assert doc["method"] == "REML" and doc["nobs"] == 180 and len(doc["varcorr"]) == 4


def test_html_output():
    out = run("fit", "dyestuff", "Yield ~ 1 + (1|Batch)", "--output", "html")
    assert out.returncode == 0 and out.stdout.startswith('<div class="mixedfit-summary">')


def test_anova_subcommand():
    out = run(
        "anova",
        "sleepstudy",
        "Reaction ~ Days + (1 | Subject)",
        "Reaction ~ Days + (Days | Subject)",
        "--refit",
    )
    assert out.returncode == 0, out.stderr
    assert "42.139" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fit", "sleepstudy", "Reaction ~ Days + (1 | Nope)"), "unknown column 'Nope'"),
        (("fit", "missing.csv", "y ~ 1 + (1 | g)"), "missing.csv"),
        (
            ("fit", "sleepstudy", "Reaction ~ Days + (1 | Subject)", "--weights", "w"),
            "weights column 'w'",
        ),
        (("anova", "sleepstudy", "Reaction ~ Days + (1 | Subject)"), "at least two"),
    ],
)
def test_bad_input_exit_code_2(args, message):
    out = run(*args)
    assert out.returncode == 2 and message in out.stderr


def test_usage_error_exit_code():
    out = run("fit", "sleepstudy")
    assert out.returncode == 2 and "usage:" in out.stderr


def test_safe_and_verbose_options():
    out = run("fit", "sleepstudy", "Reaction ~ Days + (1 | Subject)", "--verbose")
    assert out.returncode == 0 and "mixedfit: evaluation" in out.stderr
    out = run("fit", "sleepstudy", "Reaction ~ __import__('os').getpid() + (1 | Subject)", "--safe")
    assert out.returncode == 2 and "mixedfit: error:" in out.stderr
