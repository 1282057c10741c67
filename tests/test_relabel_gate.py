"""Which fits :mod:`mixedfit.engine.residual.relabel` refits, and what a kept refit carries
(issue 12, review rv23 MEDIUM-1, LOW-4, LOW-6).

Data: ``reference/relabel_gate/small_first_visit.csv`` (60 subjects, 4 visits, visit sds 0.05,
3, 6, 8, compound-symmetric errors; ``make_data.py``), ``gls(y ~ x + visit)``. R's REML fits
(``nlme_gls.R``): CSH ℓ −434.506664956891 with v1's ratio 1/159 (below relabel's 0.01 of the
largest), ARH1 −440.933080303207.

- MEDIUM-1: CSH and ARH1 build their per-visit variances as an IdentPart with the first visit
  the reference; relabel refitted both in full (CSH 140 → 267 evaluations) for the same point.
  Now only a VarIdent variance function's strata are refitted: CS & VarIdent("visit") (the same
  model as CSH) still is.
- LOW-4: a kept refit (forced here: RELABEL_GAIN −1e9) had no derivative check, its reloaded copy
  one; now the check is recomputed at the mapped point and equals the reloaded one.
- LOW-6: a fit of :mod:`.tiny_interior`'s Newton steps was refitted when the restarts' cut had
  been appended to its record's message (the exclusion compared the message); now a flag.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
import mixedfit.engine.residual.fit as residual_fit
from mixedfit.engine.residual import budget, relabel, tiny_interior

REF = Path(__file__).parent / "reference" / "relabel_gate"
FORMULA = "y ~ x + visit"
TOL = 1e-6  # ℓ against R's


def _data() -> pd.DataFrame:
    d = pd.read_csv(REF / "small_first_visit.csv")
    d["visit"] = pd.Categorical(d["visit"], categories=["v1", "v2", "v3", "v4"])
    return d


def _r() -> dict[str, Any]:
    return dict(json.loads((REF / "nlme_gls.json").read_text()))


def _spied_fit(structure: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any]]:
    """The fit, and what relabel was given (its arguments) and did (its refits)."""
    seen: dict[str, Any] = {"refits": 0}

    def spied(
        fit: Any,
        terms: Any,
        X: Any,
        y: Any,
        refit: Any,
        names: Any,
        max_evals: Any = None,
        alone: float = 0.0,
    ) -> Any:
        def counted(model: Any) -> Any:
            seen["refits"] += 1
            return refit(model)

        seen["args"] = (fit, terms, X, y, refit, names)
        return relabel.relabelled(fit, terms, X, y, counted, names, max_evals, alone)

    monkeypatch.setattr(residual_fit, "relabelled", spied)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.MixedFitWarning)
        fit = mf.gls(FORMULA, _data(), residual=structure)
    return fit, seen


@pytest.fixture(scope="module")
def varident() -> tuple[Any, dict[str, Any]]:
    with pytest.MonkeyPatch.context() as mp:
        return _spied_fit(mf.CompoundSymmetry(subject="id") & mf.VarIdent("visit"), mp)


@pytest.mark.parametrize("name", ["CSH", "ARH1"])
def test_heterogeneous_structure_small_first_visit_is_not_refitted(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MEDIUM-1: the first visit's sd ends at 1/159 of the largest; no second whole fit, and
    the one fit is R's optimum."""
    structure = {
        "CSH": mf.CompoundSymmetry(subject="id", time="visit", heterogeneous=True),
        "ARH1": mf.AR1(time="visit", subject="id", heterogeneous=True),
    }[name]
    fit, seen = _spied_fit(structure, monkeypatch)
    r = _r()[name]
    assert fit.loglik == pytest.approx(r["loglik"], abs=TOL)
    assert fit.residual.params["v4"] == pytest.approx(r["ratios"]["v4"], rel=1e-4)
    assert seen["refits"] == 0


def test_varident_small_reference_is_still_refitted(varident: tuple[Any, dict[str, Any]]) -> None:
    """CS & VarIdent("visit"), the model of CSH: its reference v1 is VarIdent's, refitted once
    (not kept: the same optimum, R's)."""
    fit, seen = varident
    assert seen["refits"] == 1
    assert fit.loglik == pytest.approx(_r()["CSH"]["loglik"], abs=TOL)


def test_kept_refit_has_the_reloaded_fits_check(tmp_path: Path) -> None:
    """LOW-4: the refit forced kept; its derivative check at the mapped point is the one
    ``load_fit`` recomputes (was None beside the reloaded fit's)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(relabel, "RELABEL_GAIN", -1e9)
        fit, seen = _spied_fit(mf.CompoundSymmetry(subject="id") & mf.VarIdent("visit"), mp)
    assert seen["refits"] == 1
    assert fit.loglik == pytest.approx(_r()["CSH"]["loglik"], abs=TOL)
    fit.save(tmp_path / "kept.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.MixedFitWarning)
        again = mf.load_fit(tmp_path / "kept.json")
    check, loaded = fit._engine.check, again._engine.check
    assert check is not None and loaded is not None
    assert check.message is None and loaded.message is None
    np.testing.assert_allclose(check.gradient, loaded.gradient, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(check.hessian, loaded.hessian, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(fit.optimizer.gradient, check.gradient)


def test_tiny_interior_fit_is_not_refitted_after_a_cut(
    varident: tuple[Any, dict[str, Any]],
) -> None:
    """LOW-6: a fit of tiny_interior's Newton steps (made here at the VarIdent fit's point,
    whose reference is small enough for a refit) whose record's message the restarts' cut
    extended (:func:`.budget.unfinished`) is still not refitted."""
    _, seen = varident
    fit, terms, X, y, _, names = seen["args"]
    record = replace(fit.record, converged=True, message=tiny_interior.MESSAGE)
    newton = tiny_interior.reported(record, fit.model, terms, X, y, fit.reml, names)
    cut = budget.unfinished(newton, "the restarts were cut by max_evals=1")
    assert cut.record.message != tiny_interior.MESSAGE  # the text compared before
    refits: list[Any] = []

    def refit(model: Any) -> Any:
        refits.append(model)
        return fit

    assert relabel.relabelled(cut, terms, X, y, refit, names) is cut
    assert refits == []
    relabel.relabelled(fit, terms, X, y, refit, names)  # the same point unflagged: refitted
    assert len(refits) == 1
