"""lmerTest's type III (and, for models with a single term, type I) contrasts per fixed-effect
term: the hypothesis matrices of ``anova(fit)`` (contrast strings are read by :mod:`.hypotheses`).

Type III contrasts follow lmerTest's ``get_contrasts_type3``/``extract_contrasts_type3``: every
term's "full dummy" parameters (all level combinations of its factors, times its numeric
variables) are written in the treatment-coded coefficients; then, from the highest-order terms
down, a term's columns are orthogonalised against the columns of the terms containing it (same
numeric variables, more factors). lmerTest computes the representation from the data
(``ginv(X) %*% rdX``); here it is solved exactly on the grid of factor-level combinations, which is
the same whenever the full-dummy columns lie in the column space of X (always for hierarchical
models). Models where they do not (non-hierarchical terms with missing margins, aliased columns),
or with multi-column numeric factors, raise ``NotImplementedError``.

One difference from R is by construction: formulaic encodes a boolean column as a numeric 0/1
column, so type III tests treat it as a covariate, where R treats a logical as a two-level
factor (which changes the containment rule). Write ``C(flag)`` to get lmerTest's hypotheses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..model import MixedModelFit

__all__ = ["doolittle", "term_contrasts", "zapsmall"]

_MAX_CELLS = 2_000_000  # factor-level combinations × columns on the type III grid


# ------------------------------------------------------------------ lmerTest helpers
def zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest |entry|."""
    x = np.asarray(x, dtype=float)
    finite = np.abs(x[np.isfinite(x)])
    mx = float(finite.max()) if finite.size else 0.0
    decimals = max(0, digits - math.ceil(math.log10(mx))) if mx > 0 else digits
    return np.round(x, decimals)


def doolittle(x: np.ndarray, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """lmerTest's Doolittle LU decomposition of a square matrix (entries below ``eps`` zeroed).

    Returns
    -------
    L : ndarray, shape (n, n)
        Unit lower triangular.
    U : ndarray, shape (n, n)
    """
    n = x.shape[0]
    L, U = np.eye(n), np.zeros((n, n))
    for i in range(n):
        U[i, :] = x[i, :] - L[i, :i] @ U[:i, :]
        for j in range(i + 1, n):
            v = x[j, i] - L[j, :i] @ U[:i, i]
            L[j, i] = 0.0 if abs(U[i, i]) < eps else v / U[i, i]
    L[np.abs(L) < eps] = 0.0
    U[np.abs(U) < eps] = 0.0
    return L, U


# ------------------------------------------------------------------ terms of the fixed part
@dataclass(frozen=True)
class _Column:
    """A column as a function on the grid of factor levels: categorical factor → vector over
    its levels (product across factors), times the product of the numeric factors."""

    name: str
    term: str
    numerics: frozenset[str]
    cats: tuple[tuple[str, tuple[float, ...]], ...]
    levels: tuple[tuple[str, Any], ...] = ()  # for a treatment/indicator column: factor → level


@dataclass(frozen=True)
class _Term:
    name: str
    factors: tuple[str, ...]
    numerics: frozenset[str]
    columns: tuple[int, ...]  # positions among the kept fixed-effect columns


def _fixed_terms(fit: MixedModelFit) -> tuple[list[_Term], bool]:
    """Non-intercept terms of the fixed part with their kept columns, and whether there is an
    intercept."""
    spec = fit._design.spec
    fs = spec.fixed_spec
    kept = {c: i for i, c in enumerate(spec.kept_columns)}
    kinds = {str(k): v[0] for k, v in fs.encoder_state.items()}
    terms, intercept = [], False
    for term, cols in fs.term_indices.items():
        factors = tuple(str(f) for f in term.factors if str(f) != "1")
        if not factors:
            intercept = intercept or any(c in kept for c in cols)
            continue
        numerics = frozenset(f for f in factors if str(kinds.get(f, "")).endswith("NUMERICAL"))
        terms.append(_Term(str(term), factors, numerics, tuple(kept[c] for c in cols if c in kept)))
    return terms, intercept


def term_contrasts(fit: MixedModelFit) -> dict[str, np.ndarray]:
    """lmerTest's type III hypothesis matrix of each fixed-effect term (type I when the model
    has a single term or at most one column, as lmerTest).

    Parameters
    ----------
    fit : MixedModelFit

    Returns
    -------
    dict
        Term label (R's, ``age:Sex``, or formulaic's with ``names="formulaic"``) → L of shape
        (r, p), r ≥ 0 (0 rows: every column of the term was dropped as
        aliased). The intercept is not a term.

    Raises
    ------
    NotImplementedError
        A model whose type III contrasts lmerTest derives from the data in a way not reproduced
        here (see the module docstring).
    """
    terms, _ = _fixed_terms(fit)
    labels = fit._design.spec.term_labels  # R's labels (age:Sex), unless names="formulaic"
    X = fit._design.X
    p = X.shape[1]
    if p <= 1 or len(terms) <= 1:
        if p == 0:
            out = {t.name: np.zeros((0, 0)) for t in terms}
        else:
            Lt = doolittle(X.T @ X)[0].T if p > 1 else np.ones((1, 1))
            out = {t.name: Lt[list(t.columns), :] for t in terms}
    else:
        out = _type3(fit, terms)
    return {labels.get(name, name): L for name, L in out.items()}


def _factor_info(fit: MixedModelFit) -> dict[str, tuple[Any, list[Any]]]:
    """Categorical factor → (contrasts, levels)."""
    fs = fit._design.spec.fixed_spec
    return {
        str(f): (state.contrasts, list(state.levels)) for f, state in fs.factor_contrasts.items()
    }


def _is_default_treatment(contrasts: Any, levels: list[Any]) -> bool:
    """R's default ``contr.treatment``: treatment contrasts with the first level as base."""
    from formulaic.transforms.contrasts import TreatmentContrasts
    from formulaic.utils.sentinels import UNSET

    if not isinstance(contrasts, TreatmentContrasts):
        return False
    return bool(contrasts.base is UNSET or (levels and contrasts.base == levels[0]))


def _coded_columns(fit: MixedModelFit) -> list[tuple[_Column, _Column]]:
    """All columns of the fixed part (before dropping aliased ones), in model order, as grid
    functions: each with its counterpart under R's default treatment contrasts (same term,
    same position within the term)."""
    from formulaic.transforms.contrasts import TreatmentContrasts

    fs = fit._design.spec.fixed_spec
    info = _factor_info(fit)
    kinds = {str(k): str(v[0]) for k, v in fs.encoder_state.items()}
    names = [str(c) for c in fs.column_names]
    generated: dict[str, tuple[_Column, _Column]] = {}
    for structure in fs.structure:
        term = str(structure.term)
        for scoped in structure.scoped_terms:
            per_factor = []
            for sf in scoped.factors:
                fname = str(sf.factor)
                if fname in info:
                    contrasts, levels = info[fname]
                    pair = []
                    for coding in (contrasts, TreatmentContrasts()):
                        M = coding.get_coding_matrix(levels, reduced_rank=sf.reduced)
                        fmt = coding.get_factor_format(levels, reduced_rank=sf.reduced)
                        Mv = np.asarray(M, dtype=float)
                        pair.append(
                            [
                                (fmt.format(name=fname, field=field), Mv[:, j])
                                for j, field in enumerate(M.columns)
                            ]
                        )
                    per_factor.append(
                        [
                            (
                                "cat",
                                fname,
                                o[0],
                                tuple(o[1]),
                                tuple(t[1]),
                                levels[int(np.argmax(t[1]))],
                            )
                            for o, t in zip(*pair, strict=True)
                        ]
                    )
                elif kinds.get(fname, "").endswith("NUMERICAL"):
                    per_factor.append([("num", fname, fname, (), (), None)])
                else:
                    raise NotImplementedError(
                        f"type III contrasts: cannot classify the factor {fname!r} of term {term!r}"
                    )
            for combo in product(*per_factor):
                label = ":".join(c[2] for c in combo) if combo else "Intercept"
                numerics = frozenset(c[1] for c in combo if c[0] == "num")
                cats = [c for c in combo if c[0] == "cat"]
                orig = _Column(label, term, numerics, tuple((c[1], c[3]) for c in cats))
                treat = _Column(
                    label,
                    term,
                    numerics,
                    tuple((c[1], c[4]) for c in cats),
                    _by_factor((c[1], c[5]) for c in cats),
                )
                generated[label] = (orig, treat)
    if set(generated) != set(names):
        raise NotImplementedError(
            "type III contrasts: the fixed-effect columns could not be matched to their factors "
            f"(expected {sorted(generated)}, model has {sorted(names)})"
        )
    return [generated[n] for n in names]


def _by_factor(pairs: Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    """(factor, level) pairs in factor-name order (a key independent of the factor order)."""
    return tuple(sorted(pairs, key=lambda fl: fl[0]))


def _grid_vectors(columns: list[_Column], factors: list[str], sizes: list[int]) -> np.ndarray:
    """Columns evaluated on the full grid of the given factors' levels, shape (cells, len)."""
    shape = tuple(sizes)
    cells = int(np.prod(shape)) if shape else 1
    if cells * max(len(columns), 1) > _MAX_CELLS:
        raise NotImplementedError(
            f"type III contrasts: the grid of factor-level combinations ({cells} cells) is "
            "too large"
        )
    out = np.empty((cells, len(columns)))
    pos = {f: i for i, f in enumerate(factors)}
    for j, col in enumerate(columns):
        v = np.ones(shape)
        for fname, vec in col.cats:
            bshape = [1] * len(shape)
            bshape[pos[fname]] = len(vec)
            v = v * np.asarray(vec).reshape(bshape)
        out[:, j] = v.ravel()
    return out


def _represent(
    target: list[_Column], basis: list[_Column], sizes: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients R (len(basis), len(target)) with basis @ R = target on the level grid, per
    set of numeric factors, and a mask (len(target),) of the target columns in that span."""
    R = np.zeros((len(basis), len(target)))
    ok = np.ones(len(target), dtype=bool)
    for numerics in {c.numerics for c in target}:
        ti = [j for j, c in enumerate(target) if c.numerics == numerics]
        bi = [j for j, c in enumerate(basis) if c.numerics == numerics]
        factors = sorted(
            {f for j in ti for f, _ in target[j].cats} | {f for j in bi for f, _ in basis[j].cats}
        )
        fsizes = [sizes[f] for f in factors]
        T = _grid_vectors([target[j] for j in ti], factors, fsizes)
        B = _grid_vectors([basis[j] for j in bi], factors, fsizes)
        coef = np.linalg.lstsq(B, T, rcond=None)[0] if bi else np.zeros((0, len(ti)))
        resid = np.max(np.abs(T - B @ coef), axis=0, initial=0.0)
        ok[ti] = resid <= 1e-8 * np.maximum(1.0, np.max(np.abs(T), axis=0, initial=0.0))
        for a, j in enumerate(ti):
            R[bi, j] = coef[:, a]
    return R, ok


def _type3(fit: MixedModelFit, terms: list[_Term]) -> dict[str, np.ndarray]:
    info = _factor_info(fit)
    sizes = {f: len(levels) for f, (_, levels) in info.items()}
    kept = list(fit._design.spec.kept_columns)
    coded = _coded_columns(fit)
    orig = [coded[i][0] for i in kept]
    treat = [coded[i][1] for i in kept]
    # the full-dummy parameters ("rdX"): intercept, then every level combination of each term
    _, has_intercept = _fixed_terms(fit)
    rd: list[_Column] = []
    if has_intercept:
        rd.append(_Column("Intercept", "1", frozenset(), ()))
    for t in terms:
        cats = [f for f in t.factors if f not in t.numerics]
        for combo in product(*[info[f][1] for f in cats]):
            vecs = tuple(
                (f, tuple(float(lv == level) for lv in info[f][1]))
                for f, level in zip(cats, combo, strict=True)
            )
            rd.append(
                _Column("", t.name, t.numerics, vecs, _by_factor(zip(cats, combo, strict=True)))
            )
    R, ok = _represent(rd, treat, sizes)
    L = zapsmall(R.T)  # rows: rdX parameters, columns: X_T
    # containment (lmerTest's term_contain): F1 ⊂ F2 strictly, with the same numeric variables
    containers = {
        t.name: [u for u in terms if set(t.factors) < set(u.factors) and t.numerics == u.numerics]
        for t in terms
    }
    if not ok.all() and any(containers[t.name] and t.columns for t in terms):
        raise NotImplementedError(
            "type III contrasts: a full-dummy column of a term is not in the span of the "
            "model's columns on the grid of factor levels (non-hierarchical or aliased terms); "
            "lmerTest derives these contrasts from the data"
        )
    # (rows outside the span matter only through the orthogonalisation, so without one the
    # remaining rows give lmerTest's contrasts)
    for t in sorted(terms, key=lambda t: -len(t.factors)):  # stable: formula order within ties
        cols = containers[t.name]
        if not cols or not t.columns:
            continue
        Xc = L[:, [c for u in cols for c in u.columns]]
        Y = L[:, list(t.columns)]
        coef = np.linalg.lstsq(Xc, Y, rcond=None)[0] if Xc.shape[1] else np.zeros((0, Y.shape[1]))
        L[:, list(t.columns)] = zapsmall(Y - Xc @ coef)
    # rows of the parameters that are columns of X (lmerTest matches them by name)
    key = {(c.term, c.levels): i for i, c in enumerate(rd)}
    rows = []
    for c in treat:
        k = (c.term, c.levels) if c.term != "1" else ("1", ())
        if k not in key:
            raise NotImplementedError(
                f"type III contrasts: column {c.name!r} is not an indicator column of its term"
            )
        rows.append(key[k])
    Lp = L[rows, :]
    mapping = None
    if not all(_is_default_treatment(*info[f]) for f in info):
        mapping, mapped = _represent(orig, treat, sizes)  # β_T = mapping β
        if not mapped.all():
            raise NotImplementedError(
                "type III contrasts: the model's coding could not be mapped to treatment coding"
            )
        mapping = zapsmall(mapping)
    out = {}
    for t in terms:
        Lt = Lp[:, list(t.columns)].T
        Lt = Lt[np.sum(np.abs(Lt), axis=1) > 1e-8]
        out[t.name] = Lt @ mapping if mapping is not None else Lt
    return out
