"""Combined residual structures whose variance ratios repeat the structure's own are refused.

``AR1(by=g) & VarIdent(g)`` (by= already gives a ratio per level), a heterogeneous structure
or Unstructured & ``VarIdent(time)``, and ``VarIdent(g) & VarIdent(g)`` used to fit with extra,
unidentified parameters (npar, AIC and LRT df wrong; an arbitrary ratio in
``residual.params``). Identified combinations still fit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit.exceptions import DataError


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [(s, t) for s in range(24) for t in range(5) if rng.random() > 0.1]
    df = pd.DataFrame(rows, columns=["subject", "visit"])
    df["visitf"] = pd.Categorical(
        [f"v{t}" for t in df["visit"]], categories=[f"v{t}" for t in range(5)]
    )
    df["grp"] = np.where(df["subject"] % 2 == 0, "even", "odd")
    df["site"] = np.where(df["subject"] < 12, "a", "b")
    df["half"] = np.where(df["subject"] % 4 < 2, "x", "y")
    df["pair"] = df["half"] + df["grp"]  # four levels: half and grp are functions of it
    df["y"] = rng.normal(size=len(df)) + df["visit"]
    return df


def _ar1(**kw: object) -> mf.AR1:
    return mf.AR1("visitf", "subject", **kw)  # type: ignore[arg-type]


REDUNDANT = [
    ("ar1-by-varident-by", lambda: _ar1(by="grp") & mf.VarIdent("grp"), "VarIdent(by='grp')"),
    (
        "arh1-varident-time",
        lambda: _ar1(heterogeneous=True) & mf.VarIdent("visitf"),
        "VarIdent(by='visitf')",
    ),
    (
        "un-varident-time",
        lambda: mf.Unstructured("visitf", "subject") & mf.VarIdent("visitf"),
        "VarIdent(by='visitf')",
    ),
    ("varident-twice", lambda: mf.VarIdent("grp") & mf.VarIdent("grp"), "VarIdent(by='grp')"),
    # a column coarser than by=: its ratio is a combination of by's
    ("ar1-by-coarser", lambda: _ar1(by="pair") & mf.VarIdent("half"), "VarIdent(by='half')"),
    (
        "two-varidents-nested",
        lambda: mf.VarIdent("pair") & mf.VarIdent("grp"),
        "VarIdent(by='grp')",
    ),
    (
        "arh1-by-varident-by",
        lambda: _ar1(by="grp", heterogeneous=True) & mf.VarIdent("grp"),
        "VarIdent(by='grp')",
    ),
    (
        "csh-varident-time",
        lambda: (
            mf.CompoundSymmetry("subject", time="visitf", heterogeneous=True)
            & mf.VarIdent("visitf")
        ),
        "VarIdent(by='visitf')",
    ),
]

IDENTIFIED = [
    ("ar1-varident", lambda: _ar1() & mf.VarIdent("grp")),
    ("un-varident-group", lambda: mf.Unstructured("visitf", "subject") & mf.VarIdent("grp")),
    ("arh1-varident-group", lambda: _ar1(heterogeneous=True) & mf.VarIdent("grp")),
    ("two-crossed-varidents", lambda: mf.VarIdent("grp") & mf.VarIdent("site")),
    ("ar1-by-finer-varident", lambda: _ar1(by="site") & mf.VarIdent("grp")),
]


@pytest.mark.parametrize(("name", "make", "part"), REDUNDANT, ids=[r[0] for r in REDUNDANT])
def test_redundant_combination_is_refused(
    frame: pd.DataFrame, name: str, make: object, part: str
) -> None:
    with pytest.raises(DataError, match=r"repeats variance ratios") as err:
        mf.gls("y ~ visit", frame, residual=make())  # type: ignore[operator]
    assert part in str(err.value)


@pytest.mark.parametrize(("name", "make"), IDENTIFIED, ids=[r[0] for r in IDENTIFIED])
def test_identified_combination_fits(frame: pd.DataFrame, name: str, make: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mf.gls("y ~ visit", frame, residual=make())  # type: ignore[operator]
    assert np.isfinite(fit.loglik)
