"""A fit from cross products alone: the engine's factor built from A
(:meth:`~mixedfit.engine.factor.BlockedFactor.from_cross_products`), BOBYQA on the profiled
criterion, the estimates read off the factor at θ̂.

Without the rows there is no moment start (:mod:`~mixedfit.engine.start` needs them) and no
centring of slope columns (:mod:`~mixedfit.engine.centring`): the optimizer starts at lme4's
T = I and, once converged, starts again from its optimum until the criterion stops improving,
so θ̂ agrees with the in-memory fit to the optimizer's tolerance.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..design import Design
from ..engine.convergence import MAX_NOBS, check_convergence
from ..engine.factor import BlockedFactor
from ..engine.optimize import OptimizerRecord, minimize_theta
from ..engine.result import EngineFit
from ..engine.solution import solve
from ..engine.threads import single_threaded
from ..model.fit import engine_terms
from .crossproducts import CrossProducts
from .progress import Reporter

__all__ = ["MAX_RESTARTS", "fit_cross_products", "rowless_design"]

MAX_RESTARTS = 1


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
        )

    with single_threaded():  # one BLAS thread; large dense blocks take all (as fit_lmm)
        record = run(layout.start() if theta_start is None else np.asarray(theta_start, float))
        for _ in range(MAX_RESTARTS):
            again = run(record.theta)
            if not again.objective < record.objective:
                break
            record = replace(
                again,
                theta_start=record.theta_start,
                evaluations=record.evaluations + again.evaluations,
            )
        check = None
        if cp.n < MAX_NOBS and len(record.theta):
            check = check_convergence(fun, record.theta, layout.lower())
        solution = solve(factor, record.theta, reml)
    if progress is not None:
        progress.done("fit")
    engine = EngineFit(factor, record.theta, record.objective, reml, record, solution, check)
    return rowless_design(cp), engine
