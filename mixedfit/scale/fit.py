"""A fit from cross products alone: the engine's factor built from A
(:meth:`~mixedfit.engine.factor.BlockedFactor.from_cross_products`), BOBYQA on the profiled
criterion, the estimates read off the factor at θ̂.

The optimizer starts from the moment estimates of the in-memory fit computed from A
(:mod:`.start`), and a suspect fit (on the boundary, or failing the derivative check) is
optimized again from second starts as in memory (:mod:`~mixedfit.engine.restart`). Without the
rows there is no centring of slope columns (:mod:`~mixedfit.engine.centring`), so θ̂ agrees with
the in-memory fit to the optimizer's tolerance (on the tests the same evaluations, objective
to ~1e-15 relative).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..design import Design
from ..engine import restart
from ..engine.convergence import MAX_NOBS, ConvergenceCheck, check_convergence
from ..engine.factor import BlockedFactor
from ..engine.newton import polish_fit
from ..engine.optimize import FIT_TOLERANCES, OptimizerRecord, minimize_theta
from ..engine.result import EngineFit
from ..engine.reterm import ThetaLayout
from ..engine.solution import solve
from ..engine.threads import single_threaded
from ..model.fit import engine_terms
from .crossproducts import CrossProducts
from .engine_fit import StatisticsEngineFit
from .progress import Reporter
from .start import statistics_start

__all__ = ["fit_cross_products", "rowless_design"]


def rowless_design(cp: CrossProducts) -> Design:
    """The prototype design with its arrays emptied: the recipe (names, levels) without rows."""
    proto = cp.design
    p = proto.X.shape[1]
    empty_terms = tuple(
        replace(t, Z=np.zeros((0, t.Z.shape[1])), refs=np.zeros(0, dtype=np.int64))
        for t in proto.terms
    )
    return replace(
        proto,
        y=np.zeros(0),
        X=np.zeros((0, p)),
        terms=empty_terms,
        weights=None,
        offset=np.zeros(0),
        rows=np.zeros(0, dtype=np.int64),
        n_dropped=cp.n_dropped,
        frame=None,
    )


def _start(cp: CrossProducts, layout: ThetaLayout, reml: bool = True) -> tuple[np.ndarray, str]:
    """The moment start from the statistics (:mod:`.start`; ``reml``: the fit's criterion, as
    in memory), or lme4's T = I if it fails; and the optimizer record's name for it."""
    try:
        theta = statistics_start(cp, layout, reml)
    except (np.linalg.LinAlgError, ValueError):
        return layout.start(), "lme4"
    if not np.all(np.isfinite(theta)):
        return layout.start(), "lme4"
    return theta, "moment"


def fit_cross_products(
    cp: CrossProducts,
    *,
    reml: bool = True,
    theta_start: np.ndarray | None = None,
    max_evals: int = 100_000,
    progress: Reporter | None = None,
) -> tuple[Design, EngineFit]:
    """Fit the model of ``cp`` by REML or ML (``progress``: told of every evaluation and of
    the end of the optimization).

    Returns
    -------
    design : Design
        Without rows (:func:`rowless_design`).
    EngineFit
    """
    terms = engine_terms(cp.design)
    A, nested = cp.blocks()
    factor = BlockedFactor.from_cross_products(
        terms, A, nested, cp.n, cp.log_weights, cp.fixed_map()
    )
    layout = factor.layout

    def fun(theta: np.ndarray) -> float:
        return factor.objective(theta, reml)

    def run(start: np.ndarray) -> OptimizerRecord:
        return minimize_theta(
            fun,
            start,
            layout.lower(),
            max_evals=max_evals,
            progress=None if progress is None else progress.evaluation,
            upper=layout.upper() if layout.structured else None,
            **FIT_TOLERANCES,  # as in memory (.engine.lmm)
        )

    def check_at(theta: np.ndarray) -> ConvergenceCheck | None:
        if cp.n >= MAX_NOBS or not len(theta):
            return None
        return check_convergence(fun, theta, layout.lower())

    with single_threaded():  # one BLAS thread; large dense blocks take all (as fit_lmm)
        if theta_start is None:
            start, label = _start(cp, layout, reml)
        else:
            start, label = np.asarray(theta_start, float), "given"
        record = replace(run(start), start=label)
        check = check_at(record.theta)
        # second starts for a fit on the boundary or failing the derivative check, as in memory
        record, check = restart.improve(record, check, layout, run, check_at)
        # a premature stop: one Newton step from the check's derivatives (the check redone
        # at a kept step), as in memory
        record, check = polish_fit(
            record, check, factor, lambda _: fun, reml, ({}, {}), max_evals, check_at
        )
        solution = solve(factor, record.theta, reml)
    if progress is not None:
        progress.done("fit")
    engine = StatisticsEngineFit(
        factor, record.theta, record.objective, reml, record, solution, check
    )
    return rowless_design(cp), engine
