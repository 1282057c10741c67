"""Parametric bootstrap of a fit with a residual structure (issue 12): refits to responses
simulated from the fitted model (:func:`mixedfit.model.residual_rows.simulate`), one row of
parameters per replicate, as :func:`.bootstrap.bootstrap` for ordinary fits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.residual import fit_residual
from ..model import ResidualModelFit, engine_terms
from ..model.residual_rows import simulate
from .parameters import sdcor_from_theta, variance_names

__all__ = ["bootstrap", "bootstrap_names"]

_SINGULAR_TOL = 1e-4  # lme4's isSingular() tolerance on diagonal θ


def bootstrap_names(fit: ResidualModelFit) -> list[str]:
    """Columns of :func:`bootstrap`: the random effects' SDs and correlations (names as
    :func:`.parameters.variance_names`), ``sigma``, the structure's parameters (as
    ``fit.residual.params``, nlme's scale), then the fixed effects."""
    structure = list(fit._engine.model.report(fit._engine.phi))
    return [*variance_names(fit), "sigma", *structure, *map(str, fit._design.spec.fixed_names)]  # type: ignore[arg-type]


def bootstrap(
    fit: ResidualModelFit, nsim: int = 100, seed: int | np.random.Generator | None = None
) -> pd.DataFrame:
    """Parametric bootstrap: ``nsim`` responses simulated from the fit (u* ~ N(0, Ĝ),
    ε* ~ N(0, σ̂²Λ_R(φ̂)) per subject, around Xβ̂), each refitted (same design, structure and
    REML/ML setting, (θ, φ) started from the estimates).

    Parameters
    ----------
    fit : ResidualModelFit
    nsim : int
        Number of replicates.
    seed : int or numpy.random.Generator, optional
        The same seed gives the same table.

    Returns
    -------
    pandas.DataFrame, shape (nsim, len(theta) + 1 + len(phi) + p)
        One row per replicate (index ``replicate``), columns :func:`bootstrap_names`. A
        correlation involving an SD estimated at 0 is NaN; a replicate whose refit failed is all
        NaN. ``attrs`` holds the counts ``failed`` and ``singular`` (boundary refits).
    """
    design, engine = fit._design, fit._engine
    Y = simulate(fit, nsim, seed)
    terms = engine_terms(design)
    names = bootstrap_names(fit)
    table = np.full((nsim, len(names)), np.nan)
    layout = engine.factor.layout
    diagonal = layout.diagonal_mask() if terms else np.zeros(0, bool)
    failed = singular = 0
    for s in range(nsim):
        try:
            new = fit_residual(
                terms,
                design.X,
                Y[:, s] - design.offset,
                engine.model,
                reml=engine.reml,
                phi_start=engine.phi,
                theta_start=engine.theta,
            )
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            failed += 1
            continue
        sdcor = sdcor_from_theta(layout, new.theta, new.sigma) if terms else np.zeros(0)
        params = np.fromiter(new.residual_params().values(), float)
        sigma = 0.0 if new.at_limit else new.sigma  # σ̂ of a refit at its σ → 0 limit
        table[s] = np.concatenate([sdcor, [sigma], params, new.beta])
        singular += int(np.any(new.theta[diagonal] < _SINGULAR_TOL))
    frame = pd.DataFrame(table, columns=names, index=pd.RangeIndex(nsim, name="replicate"))
    frame.attrs.update(failed=failed, singular=singular)
    return frame
