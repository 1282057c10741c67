"""Categorical times with levels no row uses (issue 12): AR1, ARMA and Toeplitz read a level's
index as its time position, so an unused level between observed ones is a gap (as nlme's integer
codes and as a missed visit). Kept, but warned about (UnusedLevelWarning naming the column and
level and how to drop it) when no subject has it; and the Toeplitz error for an unseen lag says
how the time coding caused it."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf


@pytest.fixture(scope="module")
def visits() -> pd.DataFrame:
    """30 subjects × visits 0, 1, 3, 4 (AR(1) errors); ``vf``: categorical with the unused level
    2 between 1 and 3."""
    rng = np.random.default_rng(12)
    n, t = 30, np.array([0, 1, 3, 4])
    e = np.zeros((n, 5))
    e[:, 0] = rng.standard_normal(n)
    for k in range(1, 5):
        e[:, k] = 0.6 * e[:, k - 1] + 0.8 * rng.standard_normal(n)
    df = pd.DataFrame(
        {
            "id": np.repeat([f"s{i:02d}" for i in range(n)], 4),
            "v": np.tile(t, n),
            "x": rng.standard_normal(4 * n),
        }
    )
    df["y"] = 1.0 + 0.5 * df["x"] + e[:, t].ravel()
    df["vf"] = pd.Categorical(df["v"], categories=[0, 1, 2, 3, 4])
    return df


def test_unused_level_warns_and_is_a_gap(visits: pd.DataFrame) -> None:
    with pytest.warns(mf.UnusedLevelWarning, match=r"'vf' has the level '2'") as record:
        fit = mf.gls("y ~ x", visits, residual=mf.AR1("vf", "id"))
    message = str(record[0].message)
    assert "df['vf'] = df['vf'].cat.remove_unused_categories()" in message
    assert "not adjacent" in message
    assert record[0].filename == __file__  # points at the user's call
    # a gap: the same fit as the integer visit numbers 0, 1, 3, 4 (nlme's semantics)
    gap = mf.gls("y ~ x", visits, residual=mf.AR1("v", "id"))
    assert fit.loglik == pytest.approx(gap.loglik, rel=1e-10)
    np.testing.assert_allclose(fit.residual.params, gap.residual.params, rtol=1e-6)
    # dropping the level makes 1 and 3 adjacent: another model
    dropped = visits.assign(vf=visits["vf"].cat.remove_unused_categories())
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.UnusedLevelWarning)
        shifted = mf.gls("y ~ x", dropped, residual=mf.AR1("vf", "id"))
    assert abs(shifted.loglik - fit.loglik) > 1e-3


def test_toeplitz_and_arma_warn_too(visits: pd.DataFrame) -> None:
    with pytest.warns(mf.UnusedLevelWarning, match="Toeplitz keeps every level"):
        mf.gls("y ~ x", visits, residual=mf.Toeplitz("vf", "id"))
    with pytest.warns(mf.UnusedLevelWarning, match="ARMA keeps every level"):
        mf.lmer("y ~ x + (1 | id)", visits, residual=mf.ARMA("vf", "id", p=1))


def test_level_unused_after_dropping_missing_responses(visits: pd.DataFrame) -> None:
    df = visits.copy()
    df["vf"] = pd.Categorical(df["v"], categories=[0, 1, 3, 4])
    df.loc[df["v"] == 3, "y"] = np.nan  # every subject misses visit 3
    with pytest.warns(mf.UnusedLevelWarning, match=r"'vf' has the level '3'"):
        mf.gls("y ~ x", df, residual=mf.AR1("vf", "id"))


def test_one_warning_with_by(visits: pd.DataFrame) -> None:
    df = visits.assign(arm=np.where(visits["id"] < "s15", "a", "b"))
    with pytest.warns(mf.UnusedLevelWarning) as record:
        mf.gls("y ~ x", df, residual=mf.AR1("vf", "id", by="arm"))
    assert sum(r.category is mf.UnusedLevelWarning for r in record) == 1


def test_no_warning_when_some_subject_has_the_level(visits: pd.DataFrame) -> None:
    df = visits.copy()
    df.loc[0, "vf"] = 2  # subject s00: visits 2, 1, 3, 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.UnusedLevelWarning)
        mf.gls("y ~ x", df, residual=mf.AR1("vf", "id"))  # a missed visit per subject: silent
        mf.gls("y ~ x", visits, residual=mf.AR1("v", "id"))  # integer times: silent


def test_save_and_load_do_not_warn_again(visits: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.warns(mf.UnusedLevelWarning):
        fit = mf.gls("y ~ x", visits, residual=mf.AR1("vf", "id"))
    fit.save(tmp_path / "ar1.mfit")
    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.UnusedLevelWarning)
        back = mf.load_fit(tmp_path / "ar1.mfit")
    assert back.loglik == fit.loglik


def test_toeplitz_integer_gap_error_suggests_categorical(visits: pd.DataFrame) -> None:
    df = visits[visits["v"] != 1].assign(v=lambda d: 2 * d["v"])  # visits 0, 6, 8: no lag 1
    with pytest.raises(mf.DataError, match=r"lag 1 of 'v'.*pd\.Categorical\(df\['v'\]\)"):
        mf.gls("y ~ x", df, residual=mf.Toeplitz("v", "id"))
    # the categorical time the message suggests fits
    mf.gls("y ~ x", df.assign(v=pd.Categorical(df["v"])), residual=mf.Toeplitz("v", "id"))


def test_toeplitz_error_from_an_unused_level_says_how_to_drop_it(visits: pd.DataFrame) -> None:
    df = visits.assign(vf=pd.Categorical(visits["v"], categories=[-1, 0, 1, 3, 4]))
    with (
        pytest.warns(mf.UnusedLevelWarning),
        pytest.raises(mf.DataError, match=r"lag 4 of 'vf'.*remove_unused_categories"),
    ):
        mf.gls("y ~ x", df, residual=mf.Toeplitz("vf", "id"))
