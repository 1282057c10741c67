"""The vanished VarIdent reference's tail followed past the refit's stop (issue 12, review rv21 H1).

``y ~ x + ar1(0 + occf | Subject, hom=False)`` with ``residual=mf.AR1("occ", "Subject") &
mf.VarIdent("grp")``, ML, on rv15's ar1vi seed 4 with stratum b's rows first (b nlme's
reference; data and R in tests/reference/cov_rar1_tailcont/). R's maximum
(``dense_stress3.R``, the model's criterion written densely) is interior on b's vanishing tail:
ratio b/a 1.2e-5, ℓ 1.31273278593.

Before (main cc80508): the restart converged on b's tail at a moderate ratio and
:func:`.rereference.reference_tail` refitted it with a as the reference, but that refit stopped
at b/a 0.0116 (ℓ 1.3126870565, 4.57e-5 short) and was accepted: "converged", no warning (and
``coef_table()`` raised "Hessian not positive definite"). Now the tail is probed again at the
refit's point and followed (a refit a step ÷10 further out) to the vanished verdict; a tail still
falling where the following ends gives a ConvergenceWarning naming the stratum.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
import mixedfit.engine.residual.fit as residual_fit
from mixedfit.engine.residual import rereference
from mixedfit.exceptions import BoundaryWarning

HERE = Path(__file__).parent / "reference" / "cov_rar1_tailcont"


@pytest.fixture(scope="module")
def fitted() -> Iterator[dict[str, Any]]:
    """The fit of m4_ba (ML), its warnings, R's reference and reference_tail's inputs."""
    ref = json.loads((HERE / "m4_ba_ML.json").read_text())
    d = pd.read_csv(HERE / "m4_ba.csv")
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    calls: list[tuple[Any, ...]] = []

    def spied(*args: Any) -> Any:
        calls.append(args)
        return rereference.reference_tail(*args)

    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings(record=True) as seen:
        mp.setattr(residual_fit, "reference_tail", spied)
        warnings.simplefilter("always")
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=False,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
    yield {"fit": fit, "seen": list(seen), "ref": ref, "calls": calls}


def test_reaches_r_maximum_on_the_reference_tail(fitted: dict[str, Any]) -> None:
    fit, seen, ref = fitted["fit"], fitted["seen"], fitted["ref"]
    assert ref["where"] == "interior" and ref["best"] == ref["interior"]
    assert fit.loglik == pytest.approx(ref["best"], abs=1e-6)  # was 4.57e-5 short
    assert fit.loglik <= ref["best"] + 1e-6
    assert float(fit.residual.params["Phi"]) == pytest.approx(ref["interior_phi"], abs=1e-3)
    assert float(fit.residual.params["a"]) > 1e3  # a's ratio ran out with σ (b's sd) → 0
    np.testing.assert_allclose(np.asarray(fit.fixef), ref["interior_fit"]["beta"], rtol=1e-5)
    named = [str(w.message) for w in seen if issubclass(w.category, BoundaryWarning)]
    assert any("stratum 'b'" in m and "reference stratum" in m for m in named), named


def test_a_tail_still_falling_is_not_silent(fitted: dict[str, Any]) -> None:
    """reference_tail on the fit's own input, its following cut to one refit (the old code's
    stop at b/a 0.0116): not converged, the message naming b's tail (a ConvergenceWarning)."""
    calls = fitted["calls"]  # the written order's first (relabel.py's refit may call it again)
    assert 1 <= len(calls) <= 2
    fit = calls[0][0]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rereference, "TAIL_ROUNDS", 1)
        out = rereference.reference_tail(*calls[0])
    assert out.objective < fit.objective - 1e-4  # the refit was kept ...
    assert out.objective > -2 * fitted["ref"]["best"] + 1e-5  # ... short of R's maximum
    assert not out.record.converged
    assert "stratum 'b'" in out.record.message and "vanishing tail" in out.record.message
    # no derivative check's verdict to take its place: warn_fit (mixedfit.model.residual_checks)
    # warns "the optimizer did not converge: <message>" (ConvergenceWarning)
    assert out.check is None and out.boundary is None


def test_the_other_order_saved_unedited_loads(tmp_path: Path) -> None:
    """Review rv22 (a regression from session 15's check of a saved ``residual.vanished``): the
    same data with stratum a's rows first (a nlme's reference; b's ratio runs to ~5.6e-4 and the
    fit, flagged by its gradient, names no stratum) saved unedited, then refused on load as
    "leaves out a stratum whose variance the fit's rule finds vanished (the file was altered)":
    the reported point is not the one the fit's rule judged. The file loads, at the fit's ℓ,
    which is R's maximum (the model is the same; labels only)."""
    ref = json.loads((HERE / "m4_ba_ML.json").read_text())
    d = pd.read_csv(HERE / "m4_ba.csv")
    d["Subject"] = np.where(d["grp"] == "a", "A", "B") + d["Subject"].str[1:]
    d = d.sort_values(["Subject", "occ"]).reset_index(drop=True)
    d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        fit = mf.lmer(
            "y ~ x + ar1(0 + occf | Subject, hom=False)",
            d,
            reml=False,
            residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
        )
        assert d["grp"].iloc[0] == "a"
        assert fit.loglik == pytest.approx(ref["best"], abs=1e-6)
        path = tmp_path / "m4_ab.json"
        fit.save(path)
        again = mf.load_fit(path)
    assert again.loglik == fit.loglik
