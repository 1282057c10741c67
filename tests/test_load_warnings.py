"""``mf.load_fit`` gives the warnings the fit gave (session 18, lane lows28, issue 12).

Loading an unconverged or singular ordinary fit was silent: the saved record said
"maximum number of evaluations reached", but no ConvergenceWarning came with the loaded fit, while
the fit itself warned. The reload now warns the same, read from the saved record and check and the
estimates recomputed from the file (:mod:`mixedfit.model.fit_warnings`). Residual-structure fits:
tests/test_residual_budget_check.py (an unconverged record), test_residual_edge_report.py,
test_residual_edge_vanish.py and test_residual_edge_swapref.py (BoundaryWarnings at an AR(1)
edge), test_residual_car1_large.py (a failed check) and test_residual_cs_ml.py
(UnboundedLikelihoodWarning). The reference is the fit's own warnings (each fit < 0.5 s).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import mixedfit as mf


def _warned(make: Any) -> tuple[Any, list[tuple[type, str]]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = make()
    return out, [(w.category, str(w.message)) for w in seen]


@pytest.mark.parametrize(
    ("data", "formula", "options", "category"),
    [
        # max_evals 10: "the optimizer did not converge: maximum number of evaluations reached"
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {"max_evals": 10}, "Convergence"),
        # lme4's Dyestuff2: the batch variance is 0 (a singular fit)
        ("dyestuff2", "Yield ~ 1 + (1 | Batch)", {}, "SingularFit"),
    ],
)
def test_load_warns_as_the_fit(
    data: str, formula: str, options: dict, category: str, tmp_path: Path
) -> None:
    fit, said = _warned(lambda: mf.lmer(formula, mf.load_dataset(data), **options))
    assert [c.__name__ for c, _ in said] == [f"{category}Warning"]
    fit.save(tmp_path / "fit.json")
    back, again = _warned(lambda: mf.load_fit(tmp_path / "fit.json"))
    assert again == said  # main: [] (silent)
    assert back.converged == fit.converged and back.theta.tolist() == fit.theta.tolist()


def test_a_converged_fit_loads_silently(tmp_path: Path) -> None:
    fit, said = _warned(
        lambda: mf.lmer("Reaction ~ Days + (1 | Subject)", mf.load_dataset("sleepstudy"))
    )
    assert not said
    fit.save(tmp_path / "fit.json")
    _, again = _warned(lambda: mf.load_fit(tmp_path / "fit.json"))
    assert not again
