"""The mixedfit command: its entry point ``main`` in this process (exit code, standard output
and error; argparse's exits caught), and ``python -m mixedfit.cli`` as a subprocess where the
process itself is tested (the module's entry, a closed pipe). Each subprocess imports mixedfit
anew (~2.5 s of CPU): the suite ran ~35 of them before lane trim."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mixedfit.cli import main

REFERENCE = Path(__file__).parent / "reference" / "extra"


def spawn(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m mixedfit.cli ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "mixedfit.cli", *args], capture_output=True, text=True, timeout=120
    )


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``main(ARGS)`` here, as the module's ``sys.exit(main())`` runs it: its exit code (or
    argparse's, for usage errors, --help and --version) and what it wrote."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_fit_bundled_dataset():
    out = spawn("fit", "sleepstudy", "Reaction ~ Days + (Days|Subject)")
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


def test_html_output_is_a_standalone_page():
    out = run("fit", "dyestuff", "Yield ~ 1 + (1|Batch)", "--output", "html")
    assert out.returncode == 0 and out.stdout.startswith("<!DOCTYPE html>")
    assert out.stdout.rstrip().endswith("</html>") and "<title>mixedfit: Yield" in out.stdout
    assert '<div class="mixedfit-summary">' in out.stdout and "Scaled residuals" in out.stdout


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


# ------------------------------------------------------------------ issue 13 §4
def test_version():
    import mixedfit as mf

    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"mixedfit {mf.__version__}"


def test_closed_pipe_is_quiet():
    """``mixedfit ... | head``: the reader has gone before the summary is written."""
    import os

    read, write = os.pipe()
    os.close(read)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "mixedfit.cli", "fit", "dyestuff", "Yield ~ 1 + (1|Batch)"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert out.returncode == 0 and out.stderr == ""


@pytest.mark.parametrize(
    ("name", "sep", "option"),
    [
        ("d.txt", ";", None),
        ("d.csv", "\t", None),
        ("d.dat", "|", None),
        ("d.txt", ";", ";"),
        ("d.txt", "\t", "tab"),
    ],
)
def test_delimiter_sniffed_or_given(tmp_path, name, sep, option):
    import mixedfit as mf

    path = tmp_path / name
    mf.load_dataset("dyestuff").to_csv(path, sep=sep, index=False)
    args = ["fit", str(path), "Yield ~ 1 + (1|Batch)"] + (["--sep", option] if option else [])
    out = run(*args)
    assert out.returncode == 0, out.stderr
    assert "REML criterion at convergence: 319.6543" in out.stdout


def test_wrong_sep_names_the_columns_it_found(tmp_path):
    import mixedfit as mf

    path = tmp_path / "d.csv"
    mf.load_dataset("dyestuff").to_csv(path, index=False)
    out = run("fit", str(path), "Yield ~ 1 + (1|Batch)", "--sep", ";")
    assert out.returncode == 2 and "Yield" in out.stderr


def test_parquet_and_excel(tmp_path):
    import importlib.util

    import mixedfit as mf

    df = mf.load_dataset("dyestuff")
    parquet = tmp_path / "d.parquet"
    df.to_parquet(parquet)  # pyarrow is in the test extra
    out = run("fit", str(parquet), "Yield ~ 1 + (1|Batch)")
    assert out.returncode == 0 and "319.6543" in out.stdout
    xlsx = tmp_path / "d.xlsx"
    if importlib.util.find_spec("openpyxl") is None:
        xlsx.write_bytes(b"PK not really a workbook")
        out = run("fit", str(xlsx), "Yield ~ 1 + (1|Batch)")
        assert out.returncode == 2
        assert (
            "needs openpyxl (Excel): pip install openpyxl, or save the table as CSV" in out.stderr
        )
    else:
        df.to_excel(xlsx, index=False)
        out = run("fit", str(xlsx), "Yield ~ 1 + (1|Batch)")
        assert out.returncode == 0 and "319.6543" in out.stdout


def test_did_you_mean_a_bundled_name():
    out = run("fit", "sleepstudi", "Reaction ~ Days + (1|Subject)")
    assert out.returncode == 2 and "did you mean 'sleepstudy'?" in out.stderr
    out = run("fit", "zzzz", "y ~ 1 + (1|g)")
    assert (
        out.returncode == 2
        and "did you mean" not in out.stderr
        and "mixedfit datasets" in out.stderr
    )
    out = run("fit", "missing/file.csv", "y ~ 1 + (1|g)")
    assert out.returncode == 2 and "no such file: 'missing/file.csv'" in out.stderr


def test_save_then_summary(tmp_path):
    path = tmp_path / "fit.json.gz"
    first = run("fit", "sleepstudy", "Reaction ~ Days + (Days|Subject)", "--save", str(path))
    assert first.returncode == 0, first.stderr
    again = run("summary", str(path))
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    kr = run("summary", str(path), "--ddf", "kenward-roger", "--output", "html")
    assert kr.returncode == 0 and kr.stdout.startswith("<!DOCTYPE html>")
    assert "Kenward-Roger" in kr.stdout
    assert run("summary", str(tmp_path / "none.json")).returncode == 2


def test_anova_html_page():
    out = run(
        "anova",
        "sleepstudy",
        "Reaction ~ Days + (1 | Subject)",
        "Reaction ~ Days + (Days | Subject)",
        "--output",
        "html",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("<!DOCTYPE html>") and "<table" in out.stdout
