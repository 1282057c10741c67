"""Structures the data cannot identify (issue 12's "a structure needing more visits than the data
have"; review rv13, session 11): ARMA(p, q) with more parameters than observed lags, a
non-integer time for AnteDependence / Unstructured, a time level seen in one subject only where
it has parameters of its own, unused categorical levels (a gap everywhere: for the
level-indexed structures the fit without the level), and ``by=`` groups missing a level."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf


@pytest.fixture(scope="module")
def visits() -> pd.DataFrame:
    """40 subjects × visits 1..5 with AR(1) errors (φ 0.6) and unequal visit variances."""
    rng = np.random.default_rng(2026)
    n, m = 40, 5
    e = np.zeros((n, m))
    e[:, 0] = rng.standard_normal(n)
    for k in range(1, m):
        e[:, k] = 0.6 * e[:, k - 1] + 0.8 * rng.standard_normal(n)
    e *= np.array([1.0, 1.2, 1.4, 1.1, 1.6])
    df = pd.DataFrame(
        {
            "id": np.repeat([f"s{i:02d}" for i in range(n)], m),
            "visit": np.tile(np.arange(1, m + 1), n),
            "x": rng.standard_normal(n * m),
        }
    )
    df["y"] = 2.0 + 0.5 * df["x"] + e.ravel()
    df["vf"] = pd.Categorical(df["visit"])
    return df


def _gls(df: pd.DataFrame, structure: Any) -> Any:
    return mf.gls("y ~ x", df, residual=structure)


# ----------------------------------------------------------------------------- MEDIUM-1: ARMA
ARMA_CASES = [
    # (visits kept, p, q, error or None)
    (
        [1, 2],
        1,
        1,
        r"ARMA\(p=1, q=1\) has 2 correlation parameters, but the time column 'visit' "
        r"has 1 distinct lag between two rows of a subject \(1\).*at least 3 visits",
    ),
    ([1, 2], 2, 1, r"ARMA\(p=2, q=1\) has 3 correlation parameters.*'visit' has 1 distinct lag"),
    ([1, 2], 0, 2, r"ARMA\(p=0, q=2\) has 2 correlation parameters"),
    (
        [1, 2, 4],
        2,
        2,
        r"ARMA\(p=2, q=2\) has 4 correlation parameters.*has 3 distinct lags "
        r"between two rows of a subject \(1, 2, 3\)",
    ),
    ([1, 2], 1, 0, None),
    ([1, 2, 4], 2, 1, None),  # lags 1, 2, 3
]


@pytest.mark.parametrize(("kept", "p", "q", "error"), ARMA_CASES)
def test_arma_needs_as_many_lags_as_parameters(
    visits: pd.DataFrame, kept: list[int], p: int, q: int, error: str | None
) -> None:
    """Regression (rv13 MEDIUM-1): with visits 1–2 only, AR1, ARMA(1,1) and ARMA(2,1) gave the
    same ℓ with dof 7/8/9 (the extra parameters unidentified, counted in AIC and LRT df)."""
    df = visits[visits["visit"].isin(kept)]
    structure = mf.ARMA("visit", "id", p=p, q=q)
    if error is None:
        _gls(df, structure)
        return
    with pytest.raises(mf.DataError, match=error):
        _gls(df, structure)


def test_arma_lags_are_the_subjects_lags(visits: pd.DataFrame) -> None:
    """Lags are differences within a subject: half the subjects at visits 1–2, half at 4–5 have
    lag 1 only, though the time column spans 1..5."""
    first = visits["id"] < "s20"
    df = visits[(first & visits["visit"].isin([1, 2])) | (~first & visits["visit"].isin([4, 5]))]
    with pytest.raises(mf.DataError, match=r"has 1 distinct lag between two rows"):
        _gls(df, mf.ARMA("visit", "id", p=1, q=1))


# ----------------------------------------------------------------------------- MEDIUM-2
NONINTEGER = r"needs integer time positions, but the time column 't' has the value 4\.5; use CAR1"


@pytest.mark.parametrize(
    "structure",
    [
        mf.AnteDependence("t", "id"),
        mf.AnteDependence("t", "id", heterogeneous=False),
        mf.Unstructured("t", "id"),
        mf.AR1("t", "id"),
        mf.Toeplitz("t", "id"),
    ],
    ids=["ANTE", "ANTE-hom", "UN", "AR1", "TOEP"],
)
def test_non_integer_numeric_time_is_refused_alike(visits: pd.DataFrame, structure: Any) -> None:
    """Regression (rv13 MEDIUM-2): AnteDependence made 4.5 a level of its own (a correlation of
    1.0 from one subject, reported converged); Unstructured's message was about a pair."""
    df = visits.assign(t=visits["visit"].astype(float))
    df.loc[3, "t"] = 4.5  # s00's visit 4
    with pytest.raises(mf.DataError, match=NONINTEGER):
        _gls(df, structure)


# ----------------------------------------------------------------------------- LOW-1
ONE_SUBJECT = (
    r"the level '5' of the time column 'vf' has rows of one subject only \('s00' of 'id'\), so "
    r"{label} cannot estimate its variance and {what}.*drop that level's rows, merge it"
)


@pytest.mark.parametrize(
    ("structure", "error"),
    [
        (mf.Unstructured("vf", "id"), ONE_SUBJECT.format(label="Unstructured", what="covariances")),
        (
            mf.AnteDependence("vf", "id"),
            ONE_SUBJECT.format(label="AnteDependence", what="correlations with adjacent levels"),
        ),
        (
            mf.Toeplitz("vf", "id", heterogeneous=True),
            ONE_SUBJECT.format(label="Toeplitz", what=r"the lag-4 correlation, which only pairs"),
        ),
        (mf.AnteDependence("vf", "id", heterogeneous=False), None),
        (mf.Toeplitz("vf", "id"), None),
        (mf.CompoundSymmetry("id", time="vf", heterogeneous=True), None),
        (mf.AR1("vf", "id", heterogeneous=True), None),
    ],
    ids=["UN", "ANTE", "TOEPH", "ANTE-hom", "TOEP", "CSH", "ARH1"],
)
def test_level_of_one_subject(visits: pd.DataFrame, structure: Any, error: str | None) -> None:
    """Regression (rv13 LOW-1): visit 5 kept for s00 only. UN (Σ's column for the level free:
    the row is fitted exactly as its conditional variance → 0, ℓ unbounded), heterogeneous ANTE
    (its variance and adjacent correlation) and TOEPH (its variance and lag 4, seen only in s00's
    pair 1–5) are not identified: a DataError instead of a generic ConvergenceWarning. The
    others have no parameter of the level's own beyond one variance: fitted."""
    df = visits[(visits["visit"] < 5) | (visits["id"] == "s00")]
    if error is None:
        _gls(df, structure)
        return
    with pytest.raises(mf.DataError, match=error):
        _gls(df, structure)


def test_toeph_level_of_one_subject_whose_lags_others_have(visits: pd.DataFrame) -> None:
    """Visit 3 kept for s00 only: every lag is still seen in other subjects' pairs, so only
    the level's variance rests on one row (bounded, as CSH): fitted."""
    df = visits[(visits["visit"] != 3) | (visits["id"] == "s00")]
    _gls(df, mf.Toeplitz("vf", "id", heterogeneous=True))


# ----------------------------------------------------------------------------- LOW-2
@pytest.mark.parametrize("unused", [3, 9], ids=["inner", "outer"])
def test_unused_level_csh_is_a_gap_that_changes_nothing(visits: pd.DataFrame, unused: int) -> None:
    """Regression (rv13 LOW-2): CompoundSymmetry(time=) ignored an unused category silently; it
    is now warned about (UnusedLevelWarning naming the column and level), and the fit equals
    the one without the level (the level has no rows, hence no parameters)."""
    df = visits[visits["visit"] != unused].copy()
    kept = sorted(df["visit"].unique())
    df["vf"] = pd.Categorical(df["visit"], categories=sorted({*kept, unused}))
    make = lambda t: mf.CompoundSymmetry("id", time=t, heterogeneous=True)  # noqa: E731
    with pytest.warns(
        mf.UnusedLevelWarning, match=rf"'vf' has the level '{unused}'.*no parameters"
    ):
        fit = _gls(df, make("vf"))
    dropped = df.assign(vf=pd.Categorical(df["visit"], categories=kept))
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.UnusedLevelWarning)
        ref = _gls(dropped, make("vf"))
    assert fit.loglik == pytest.approx(ref.loglik, rel=1e-9)
    assert fit.dof == ref.dof


@pytest.mark.parametrize(
    "make",
    [
        lambda t: mf.Unstructured(t, "id"),
        lambda t: mf.AnteDependence(t, "id"),
        lambda t: mf.AnteDependence(t, "id", heterogeneous=False),
    ],
    ids=["UN", "ANTE", "ANTE-hom"],
)
@pytest.mark.parametrize("unused", [3, 9], ids=["inner", "outer"])
def test_unused_level_refused_by_level_indexed_structures(
    visits: pd.DataFrame, make: Any, unused: int
) -> None:
    """The issue's "a time level unseen in the fit": Unstructured and AnteDependence give every
    level its own parameters and refuse a level without rows, naming it and the column."""
    df = visits[visits["visit"] != unused].copy()
    kept = sorted(df["visit"].unique())
    df["vf"] = pd.Categorical(df["visit"], categories=sorted({*kept, unused}))
    with pytest.raises(mf.DataError, match=rf"time level '{unused}' of 'vf' has no rows"):
        _gls(df, make("vf"))


@pytest.mark.parametrize("time", ["visit", "vf"])
@pytest.mark.parametrize(
    "make",
    [lambda t: mf.Unstructured(t, "id", by="arm"), lambda t: mf.AnteDependence(t, "id", by="arm")],
    ids=["UN", "ANTE"],
)
def test_by_group_missing_a_level(visits: pd.DataFrame, time: str, make: Any) -> None:
    """A by= group has its own parameters for every level of the fit: a group without rows at
    a level cannot estimate them (a numeric time passed unchecked before)."""
    df = visits.assign(arm=np.where(visits["id"] < "s20", "a", "b"))
    df = df[(df["arm"] == "a") | (df["visit"] != 5)]
    with pytest.raises(mf.DataError, match=rf"level 'b' of the by column 'arm'.*'5' of '{time}'"):
        _gls(df, make(time))
