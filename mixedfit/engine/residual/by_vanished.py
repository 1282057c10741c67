"""The φ of a ``by=`` group whose residual variance vanished: not identified, so not an estimate.

With ``residual=AR1(time, subject, by=g)`` each group's rows get σ² δ_g² Λ_R(φ_g). Where the fit
names group g's variance vanished (δ_g → 0: its BoundaryWarning, :attr:`.ResidualFit.vanished`
by :func:`.vanished.settle`'s rule, or at a φ = ±1 edge :func:`.edge_vanish.vanished_at_edge`),
σ² δ_g² Λ_R(φ_g) is ~0 whatever φ_g: the likelihood does not depend on φ_g beyond rounding and
the reported value is wherever the optimizer left it (h8 of tests/reference/cov_by_ar1: a:Phi
0.665 printed as an estimate, session 17). nlme cannot fit such a group at all, and glmmTMB
reports such a parameter with NaN standard errors; here its φ is NaN in ``fit.residual.params``
(so in the summary, tidy tables and the saved file's reload) and held out of the variance
parameters' information (Satterthwaite / Kenward–Roger df, :mod:`mixedfit.inference.
residual_varpar`), as a VarIdent ratio at its boundary is (session 18, lane lows28).
"""

from __future__ import annotations

import numpy as np

from .by import ByCorrelation
from .edge_vanish import vanished_at_edge
from .labels import labelled
from .structure import ResidualModel
from .vanished import held_strata
from .variance import IdentPart

__all__ = ["unidentified_phi", "vanished_groups"]


def vanished_groups(
    model: ResidualModel, n_theta: int, mask: np.ndarray | None, phi: np.ndarray
) -> list[str]:
    """The ``by=`` groups whose residual variance vanished (``mask``: the fit's verdict over
    x = (θ, φ), or None), in the order of their labels; [] unless the correlation is a
    :class:`.by.ByCorrelation` beside the groups' own VarIdent (origin "by")."""
    corr, part = model.correlation, model.variance
    if not (isinstance(corr, ByCorrelation) and isinstance(part, IdentPart)):
        return []
    if part.origin != "by" or list(part.labels) != list(corr.labels):
        return []
    gone = set(vanished_at_edge(model, phi))
    if mask is not None:
        gone |= set(held_strata(model, n_theta, mask, phi))
    return [lab for lab in corr.labels if lab in gone]


def unidentified_phi(
    model: ResidualModel, n_theta: int, mask: np.ndarray | None, phi: np.ndarray
) -> np.ndarray:
    """Which entries of φ (the model's, correlation first) are the correlation parameters of a
    group :func:`vanished_groups` names: not identified (all False otherwise)."""
    out = np.zeros(len(phi), dtype=bool)
    gone = vanished_groups(model, n_theta, mask, phi)
    if gone:
        corr = model.correlation
        assert isinstance(corr, ByCorrelation)
        for g, lab in enumerate(corr.labels):
            if lab in gone:
                out[corr._offsets[g] : corr._offsets[g + 1]] = True
    return out


def reported(
    model: ResidualModel, n_theta: int, mask: np.ndarray | None, phi: np.ndarray
) -> dict[str, float]:
    """``model.report(phi)`` (nlme's scale, the same names) with the correlation parameters of
    the groups :func:`vanished_groups` names NaN (not estimable)."""
    gone = vanished_groups(model, n_theta, mask, phi)
    if not gone:
        return model.report(phi)
    corr = model.correlation
    assert corr is not None
    blocks = model.param_blocks(phi)
    own = len(corr.param_blocks(model.split(np.asarray(phi, dtype=float))[0]))
    raw = [(i < own, key) for i, b in enumerate(blocks) for key in b.values]
    return {
        name: float("nan") if mine and any(key.startswith(f"{g}:") for g in gone) else value
        for (mine, key), (name, value, _) in zip(raw, labelled(blocks), strict=True)
    }
