"""rv17 helpers: the engine inputs of a residual fit, and an independent dense criterion."""
from __future__ import annotations
import warnings
import numpy as np
import pandas as pd
import mixedfit as mf
from mixedfit.design import build_design
from mixedfit.formula import parse_formula
from mixedfit.covariance.reference import reference_groups
from mixedfit.model import engine_terms
from mixedfit.engine.residual.criterion import ResidualCriterion

REF = "/work/wt-rv17/tests/reference"


def load(path, K=None):
    d = pd.read_csv(path)
    if "occf" in d:
        K = K or int(d["occ"].max())
        d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, K + 1)])
    return d


def inputs(formula, d, residual):
    parsed = parse_formula(formula, allow_no_random=True)
    design = build_design(parsed, d)
    frame = d.iloc[design.rows]
    bound = residual.bind(frame.reset_index(drop=True), reference_groups(design))
    terms = engine_terms(design)
    return terms, design.X, design.y, bound.model


def fit(formula, d, residual, reml):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        f = mf.lmer(formula, d, reml=reml, residual=residual)
    return f, [(w.category.__name__, str(w.message)[:160]) for w in seen]


def dense_neg2ll(d, X, y, G, phi, ratio, reml, occ="occ", subj="Subject", grp="grp", K=None):
    """-2 l(REML/ML) with V/sigma^2 = G[k,k] + r_g^2 phi^|k-k'| per subject (G relative to sigma^2),
    ratio: dict grp->sd multiplier (reference 1). Independent of mixedfit."""
    n, p = X.shape
    XVX = np.zeros((p, p)); XVy = np.zeros(p); yVy = 0.0; logdet = 0.0
    for _, g in d.groupby(subj, sort=False):
        idx = g.index.to_numpy()
        k = g[occ].to_numpy() - 1
        r = ratio.get(str(g[grp].iloc[0]), 1.0) if grp in g else 1.0
        V = G[np.ix_(k, k)] + r**2 * phi ** np.abs(np.subtract.outer(k, k)).astype(float)
        C = np.linalg.cholesky(V)
        Xw = np.linalg.solve(C, X[idx]); yw = np.linalg.solve(C, y[idx])
        XVX += Xw.T @ Xw; XVy += Xw.T @ yw; yVy += yw @ yw
        logdet += 2 * np.log(np.diag(C)).sum()
    beta = np.linalg.solve(XVX, XVy)
    r2 = yVy - XVy @ beta
    if reml:
        m = n - p
        return m * (1 + np.log(2 * np.pi * r2 / m)) + logdet + np.linalg.slogdet(XVX)[1], beta, np.sqrt(r2 / m), XVX
    return n * (1 + np.log(2 * np.pi * r2 / n)) + logdet, beta, np.sqrt(r2 / n), XVX
