"""What the moment start's cov(b_l) divides by (:mod:`.start`): a term's usable levels m less
the fixed-effect directions its per-level coefficients lose (REML's divisor), or m itself (ML's).

An ML fit divides by m only for a term with fewer than :data:`ML_LEVELS` levels per lost
direction. There the two divisors differ by 1 % or more (m / (m − lost)) and ML's start is
nearer ML's optimum: over ``benchmarks/reference_evals.py``'s 65 fits by ML (every term ≤ 54
levels) 3,274 → 2,644 evaluations. With more levels the start moves by less than half a percent
— far inside BOBYQA's first steps — and the count moves only as the optimizer's path happens to
(InstEval ML from its REML-divisor start scaled by 1 ± 1e-4 … 3e-3: 32 to 40 evaluations); the
large models keep REML's divisor and the start their REML fits have (InstEval ML 36 → 32
evaluations as before session 15, the 10⁶-row model 26 → 24).
"""

from __future__ import annotations

import numpy as np

from .reterm import ReTerm

__all__ = ["ML_LEVELS", "between_level_rank", "divisor_spent"]

ML_LEVELS = 100  # ML's divisor for a term with fewer usable levels than this per lost direction


def divisor_spent(used: int, lost: int, reml: bool) -> int:
    """What cov(b_l)'s divisor takes from a term's ``used`` usable levels: the ``lost``
    fixed-effect directions (:func:`between_level_rank`) for REML, and for ML where the term
    has at least :data:`ML_LEVELS` levels per lost direction; else 0 (ML's divisor)."""
    return lost if reml or used >= ML_LEVELS * lost else 0


def between_level_rank(term: ReTerm, X: np.ndarray) -> int:
    """Fixed-effect directions that the b_l of the OLS residuals have lost (at least 1): for
    each column z of the term, the dimension of col(X) ∩ {z · c_level}, i.e. p less the rank of
    X after a per-level regression on z (Orthodont's (1 + age | Subject) with age * Sex: 2,
    the intercept and Sex, and age and age:Sex). X is taken to include an intercept; without
    one, centring the b_l costs one more, which is not counted.

    Parameters
    ----------
    term : ReTerm
    X : ndarray, shape (n, p)
        Full column rank.
    """
    p = X.shape[1]
    if p <= 1:
        return 1
    scale = 1.0 / np.sqrt(np.add.reduce(X * X, axis=0))  # np.linalg.norm(X, axis=0)
    refs, nlev = term.refs, term.nlev
    within = np.empty((term.k, *X.shape))
    for z, out in zip(term.Z.T, within, strict=True):
        zz = np.bincount(refs, weights=z * z, minlength=nlev)
        zz[zz == 0] = 1.0
        for c, x in enumerate(X.T):
            coef = np.bincount(refs, weights=z * x, minlength=nlev) / zz
            out[:, c] = (x - z * coef[refs]) * scale[c]  # exact zeros between levels
    ranks = np.linalg.matrix_rank(within)  # one SVD call for all of the term's columns
    return max(1, p - int(np.min(ranks)))
