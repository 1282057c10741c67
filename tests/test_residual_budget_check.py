"""The derivative check of a residual-covariance fit under a ``max_evals`` cap (issue 12, review
rv25 LOW-4; ``engine/residual/polish.py``'s ``derivative_check``).

lme4 always runs its check. The budget (session 16) skipped it below two checks' evaluations
(2(m + 1)² left) and reported the fit converged, silently, while ``load_fit`` ran the check. Now
one check runs where it fits ((m + 1)² left: the one ``load_fit`` runs), and a fit without room
for any is unconverged, its ConvergenceWarning saying that the check was not run (and the reload
runs none either). Model: ``y ~ x + (1 | Subject)`` with ``residual=mf.AR1("occ", "Subject") &
mf.VarIdent("grp")``, ML, on rv21's g3 (m = 4: θ, φ and two ratios; R: nlme's lme maximum,
tests/reference/cov_budget_check). Its stages draw 83 evaluations on the budget before the check
(the record counts 81), 102 with it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.engine.residual.polish import NOT_CHECKED
from mixedfit.exceptions import ConvergenceWarning

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "cov_budget_check" / "g3_lme_ML.json").read_text())
TOL = 1e-8  # ℓ against nlme's (the fit is 7.8e-11 above)


@pytest.fixture(scope="module")
def fits() -> dict[int | None, tuple[Any, list[str]]]:
    """The fit by default, at max_evals 110 (room for one check, not two) and 95 (for none),
    with its ConvergenceWarnings (each fit ~0.05 s)."""
    d = pd.read_csv(REF / "cov_vi_vanfinal" / "g3.csv")
    out = {}
    for cap in (None, 110, 95):
        options = {} if cap is None else {"max_evals": cap}
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit = mf.lmer(
                R["formula"],
                d,
                reml=False,
                residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"),
                **options,
            )
        said = [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)]
        out[cap] = (fit, said)
    return out


def _reloaded(fit: Any, path: Path) -> tuple[Any, list[str]]:
    fit.save(path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        back = mf.load_fit(path)
    return back, [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)]


def test_one_check_runs_where_it_fits(fits: Any, tmp_path: Path) -> None:
    """max_evals 110: 27 left, below two checks (50), room for one (25): it runs (main: none,
    the fit converged silently; its reload ran the check)."""
    fit, said = fits[110]
    default, _ = fits[None]
    assert fit.optimizer.evaluations <= 110 and not said
    assert fit.converged and fit.loglik == pytest.approx(R["loglik"], abs=TOL)
    check = fit._engine.check
    assert check is not None and check.message is None  # main: None
    np.testing.assert_array_equal(check.gradient, default._engine.check.gradient)  # same point
    back, warned = _reloaded(fit, tmp_path / "cap110.json")
    loaded = back._engine.check
    assert not warned and loaded is not None and loaded.message is None
    np.testing.assert_allclose(check.gradient, loaded.gradient, rtol=0, atol=1e-8)
    assert check.scaled_gradient == pytest.approx(loaded.scaled_gradient, abs=1e-8)


def test_no_room_for_the_check_is_said(fits: Any, tmp_path: Path) -> None:
    """max_evals 95: 12 left, below one check: unconverged, a ConvergenceWarning saying so
    (main: converged, no check, no warning); the point is R's optimum all the same. Its reload
    warns the same (session 18: loading an unconverged fit was silent)."""
    fit, said = fits[95]
    assert fit.optimizer.evaluations <= 95
    assert fit.loglik == pytest.approx(R["loglik"], abs=TOL)
    assert not fit.converged and fit._engine.check is None
    assert len(said) == 1 and NOT_CHECKED in said[0] and "raise max_evals" in said[0]
    back, warned = _reloaded(fit, tmp_path / "cap95.json")
    # the fit's record: the same verdict, and (lane lows28) the same warning again (main: the
    # reload was silent)
    assert back._engine.check is None and warned == said
    assert back.optimizer.message == fit.optimizer.message and not back.converged


def test_a_file_claiming_converged_is_checked_despite_the_message(fits: Any, tmp_path: Path):
    """Regression (session 17's read-through): the reload skipped its derivative check wherever
    the record's message said the check was not run, also when the (edited) file claimed the
    record converged: an unverified fit loaded as converged. The check now runs for such a
    record (skipped only with the fit's own verdict: unconverged)."""
    fit, _ = fits[95]
    path = tmp_path / "edited.json"
    fit.save(path)
    document = json.loads(path.read_text())
    assert NOT_CHECKED in document["optimizer"]["message"]
    document["optimizer"]["converged"] = True
    path.write_text(json.dumps(document))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = mf.load_fit(path)
    assert back._engine.check is not None  # the reload judged the point itself
