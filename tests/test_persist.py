"""Saved fits: round trips (estimates, summary, predictions, model comparison), the file format
(JSON, versioned, no pickle), and the errors of foreign, newer, corrupt or altered files."""

from __future__ import annotations

import dataclasses
import gzip
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixedfit as mf
from mixedfit import load_fit
from mixedfit.io.jsoncodec import decode_column, encode_column
from mixedfit.io.persist import FORMAT, FORMAT_VERSION, save_fit


def _fit(formula: str, data: pd.DataFrame, **kwargs: Any) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        return mf.lmer(formula, data, **kwargs)


def _round_trip(fit: mf.LinearMixedModel, data: pd.DataFrame, path: Path, **kw: Any):
    save_fit(fit, path, data=data)
    return load_fit(path, **kw)


def _assert_same(a: mf.LinearMixedModel, b: mf.LinearMixedModel) -> None:
    np.testing.assert_array_equal(a.theta, b.theta)
    pd.testing.assert_series_equal(a.fixef, b.fixef, check_exact=True)
    pd.testing.assert_frame_equal(a.vcov, b.vcov, check_exact=True)
    assert a.sigma == b.sigma
    assert a.objective == b.objective
    assert (a.reml, a.formula, a.nobs, a.n_dropped) == (b.reml, b.formula, b.nobs, b.n_dropped)
    np.testing.assert_array_equal(a._design.rows, b._design.rows)
    pd.testing.assert_frame_equal(a.varcorr, b.varcorr, check_exact=True)
    assert a.ranef.keys() == b.ranef.keys()
    for key in a.ranef:
        pd.testing.assert_frame_equal(a.ranef[key], b.ranef[key], check_exact=True)
        pd.testing.assert_frame_equal(a.ranef_condsd[key], b.ranef_condsd[key], check_exact=True)
    np.testing.assert_array_equal(a.fitted, b.fitted)
    assert (a.converged, a.singular) == (b.converged, b.singular)
    assert a.optimizer.evaluations == b.optimizer.evaluations
    assert a.optimizer.message == b.optimizer.message
    assert a.summary().text == b.summary().text
    assert repr(a) == repr(b)


# ------------------------------------------------------------------ data sets and fits
@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return mf.load_dataset("sleepstudy")


@pytest.fixture(scope="module")
def slopes(sleep):
    return _fit("Reaction ~ Days + (Days | Subject)", sleep)


def _with_missing(sleep: pd.DataFrame) -> pd.DataFrame:
    df = sleep.copy()
    df["Reaction"] = df["Reaction"].astype(float)
    df.loc[[3, 40, 41], "Reaction"] = np.nan
    df["Days"] = df["Days"].astype(float)
    df.loc[[7, 100], "Days"] = np.nan
    return df


def _weighted(sleep: pd.DataFrame) -> pd.DataFrame:
    return sleep.assign(w=1.0 + (np.arange(len(sleep)) % 4) / 3)


def _string_groups(sleep: pd.DataFrame) -> pd.DataFrame:
    return sleep.assign(Subject=sleep["Subject"].astype(str))


def _object_groups(sleep: pd.DataFrame) -> pd.DataFrame:
    return sleep.assign(Subject=np.asarray(sleep["Subject"].astype(str), dtype=object))


def _int_groups(sleep: pd.DataFrame) -> pd.DataFrame:
    return sleep.assign(Subject=sleep["Subject"].astype(str).astype(np.int64))


OFFSET = np.linspace(-3.0, 3.0, 180)

CASES: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "slopes": (None, "Reaction ~ Days + (Days | Subject)", {}),
    "ml": (None, "Reaction ~ Days + (1 | Subject)", {"reml": False}),
    "uncorrelated": (None, "Reaction ~ Days + (Days || Subject)", {}),
    "weighted": (_weighted, "Reaction ~ Days + (Days | Subject)", {"weights": "w"}),
    "offset": (
        None,
        "Reaction ~ Days + offset(0.5 * Days) + (1 | Subject)",
        {"offset": OFFSET},
    ),
    "missing": (_with_missing, "Reaction ~ Days + (Days | Subject)", {}),
    "string_groups": (_string_groups, "Reaction ~ Days + (Days | Subject)", {}),
    "object_groups": (_object_groups, "Reaction ~ Days + (1 | Subject)", {}),
    "int_groups": (_int_groups, "Reaction ~ Days + (Days | Subject)", {}),
    "transforms": (None, "np.log(Reaction) ~ center(Days) + I(Days**2) + (1 | Subject)", {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_sleepstudy_variants(case, sleep, tmp_path):
    make, formula, kwargs = CASES[case]
    data = sleep if make is None else make(sleep)
    fit = _fit(formula, data, **kwargs)
    loaded = _round_trip(fit, data, tmp_path / "fit.json")
    assert isinstance(loaded, mf.LinearMixedModel)
    _assert_same(fit, loaded)
    new = data.head(12).copy()
    if case == "int_groups":
        new.loc[new.index[:3], "Subject"] = 999
    else:
        new["Subject"] = new["Subject"].astype(str)
        new.loc[new.index[:3], "Subject"] = "new-subject"
    offset = None if case != "offset" else np.arange(12.0)
    np.testing.assert_array_equal(
        fit.predict(new, offset=offset), loaded.predict(new, offset=offset)
    )
    np.testing.assert_array_equal(fit.predict(new, random=False), loaded.predict(new, random=False))


def test_missing_rows_are_restored(sleep, tmp_path):
    data = _with_missing(sleep)
    fit = _fit("Reaction ~ Days + (Days | Subject)", data)
    loaded = _round_trip(fit, data, tmp_path / "fit.json")
    assert loaded.n_dropped == fit.n_dropped == 5
    np.testing.assert_array_equal(loaded._design.rows, fit._design.rows)
    assert "5 rows with missing values dropped" in loaded.summary().text


def test_round_trip_pastes_nested(tmp_path):
    data = mf.load_dataset("pastes")
    fit = _fit("strength ~ 1 + (1 | batch/cask)", data)
    loaded = _round_trip(fit, data, tmp_path / "pastes.json.gz")
    _assert_same(fit, loaded)
    assert set(loaded.ranef) == {"batch", "batch:cask"}
    new = data.head(4).copy()
    new["batch"] = new["batch"].astype(str)
    new.loc[new.index[0], "batch"] = "Z"
    np.testing.assert_array_equal(fit.predict(new), loaded.predict(new))


def test_round_trip_orthodont_level_order(tmp_path):
    data = mf.load_dataset("orthodont")
    assert list(data["Sex"].cat.categories) == ["Male", "Female"]  # not alphabetical
    fit = _fit("distance ~ age * Sex + (1 + age | Subject)", data)
    loaded = _round_trip(fit, data, tmp_path / "orthodont.json")
    _assert_same(fit, loaded)
    assert list(loaded.fixef.index) == list(fit.fixef.index)
    assert any("Female" in name for name in loaded.fixef.index)
    new = pd.DataFrame(
        {"age": [8, 10, 14], "Sex": ["Female", "Male", "Female"], "Subject": ["F01", "X", "M01"]}
    )
    np.testing.assert_array_equal(fit.predict(new), loaded.predict(new))
    with pytest.raises(mf.DataError, match="Sex"):
        loaded.predict(new.assign(Sex=["Other", "Male", "Male"]))


def test_anova_after_reload(sleep, slopes, tmp_path):
    m0 = _fit("Reaction ~ Days + (1 | Subject)", sleep)
    l0 = _round_trip(m0, sleep, tmp_path / "m0.json")
    l1 = _round_trip(slopes, sleep, tmp_path / "m1.json")
    pd.testing.assert_frame_equal(mf.anova(l0, l1), mf.anova(m0, slopes), check_exact=True)
    pd.testing.assert_frame_equal(mf.anova(m0, l1), mf.anova(m0, slopes), check_exact=True)
    # different fixed effects: both refitted by ML from the loaded fits
    f0 = _fit("Reaction ~ 1 + (Days | Subject)", sleep)
    r0 = _round_trip(f0, sleep, tmp_path / "f0.json")
    table = mf.anova(r0, l1)
    assert table.attrs["refitted"]
    pd.testing.assert_frame_equal(table, mf.anova(f0, slopes), check_exact=True)
    refit = l1.refit(reml=False)
    np.testing.assert_array_equal(refit.theta, slopes.refit(reml=False).theta)


def test_refit_to_new_response_round_trips(sleep, slopes, tmp_path):
    y = slopes.simulate(1, seed=3)[:, 0]
    other = slopes.refit(y=y)
    loaded = _round_trip(other, sleep, tmp_path / "sim.json")
    _assert_same(other, loaded)
    np.testing.assert_array_equal(loaded._design.y, y)


def test_formula_context_must_be_given_again(sleep, tmp_path):
    def double(x):
        return 2 * x

    fit = _fit("Reaction ~ double(Days) + (1 | Subject)", sleep, context={"double": double})
    path = tmp_path / "ctx.json"
    save_fit(fit, path, data=sleep)
    assert json.loads(path.read_text())["model"]["context_names"] == ["double"]
    # a call of a context function is outside safe mode: loading needs trust=True
    with pytest.raises(mf.MixedFitError, match=r"not a safe formula.*'double.*trust=True"):
        load_fit(path, context={"double": double})
    with pytest.raises(mf.MixedFitError, match=r"context.*'double'"):
        load_fit(path, trust=True)
    _assert_same(fit, load_fit(path, context={"double": double}, trust=True))
    with pytest.raises(mf.MixedFitError, match="does not reproduce"):
        load_fit(path, context={"double": lambda x: 3 * x + 1.0}, trust=True)


# ------------------------------------------------------------------ the file
def test_file_is_plain_versioned_json(slopes, sleep, tmp_path):
    path = tmp_path / "fit.json"
    save_fit(slopes, path, data=sleep)
    raw = path.read_bytes()
    assert not raw.startswith(b"\x80")  # a pickle starts with its protocol opcode
    assert b"pickle" not in raw
    doc = json.loads(raw.decode("utf-8"))
    assert (doc["format"], doc["version"]) == (FORMAT, FORMAT_VERSION) == ("mixedfit-fit", 2)
    assert doc["mixedfit_version"] == mf.__version__
    assert doc["model"]["formula"] == slopes.formula
    assert [c["name"] for c in doc["data"]["columns"]] == ["Reaction", "Days", "Subject"]
    subject = doc["data"]["columns"][2]
    assert subject["kind"] == "categorical" and len(subject["codes"]) == 180
    assert doc["estimates"]["theta"]["values"] == slopes.theta.tolist()  # full precision
    # gzip when the name ends with .gz; the content is the same document
    gz = tmp_path / "fit.json.gz"
    save_fit(slopes, gz, data=sleep)
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(gz.read_bytes())) == doc
    _assert_same(slopes, load_fit(gz))


def test_strict_json_for_non_finite_values(slopes, sleep, tmp_path):
    path = tmp_path / "fit.json"
    save_fit(slopes, path, data=sleep)
    doc = json.loads(path.read_text())
    doc["optimizer"]["seconds"] = {"float": "NaN"}
    path.write_text(json.dumps(doc, allow_nan=False))
    assert np.isnan(load_fit(path).optimizer.seconds)


def _rewrite(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def test_newer_version_is_refused(slopes, sleep, tmp_path):
    path = tmp_path / "fit.json"
    save_fit(slopes, path, data=sleep)
    _rewrite(path, lambda d: d.update(version=FORMAT_VERSION + 1, mixedfit_version="9.0"))
    with pytest.raises(
        mf.MixedFitError, match=r"newer mixedfit \(9\.0\).*reads fit format version 2"
    ):
        load_fit(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\x80\x04garbage",
        b"not json at all",
        b'{"format": "something-else", "version": 1}',
        b"[1, 2]",
    ],
)
def test_foreign_files_are_refused(content, tmp_path):
    path = tmp_path / "fit.json"
    path.write_bytes(content)
    with pytest.raises(mf.MixedFitError, match="not a mixedfit fit file"):
        load_fit(path)


def test_truncated_gzip_is_refused(slopes, sleep, tmp_path):
    path = tmp_path / "fit.json.gz"
    save_fit(slopes, path, data=sleep)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(mf.MixedFitError, match="not a mixedfit fit file"):
        load_fit(path)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["estimates"].pop("theta"),
        lambda d: d["data"].update(rows={"dtype": "int64", "shape": [2], "values": [0, 1]}),
        lambda d: d["data"]["columns"][0].update(kind="pickle"),
        lambda d: d.update(version="1"),
    ],
)
def test_corrupt_files_are_refused(change, slopes, sleep, tmp_path):
    path = tmp_path / "fit.json"
    save_fit(slopes, path, data=sleep)
    _rewrite(path, change)
    with pytest.raises(mf.MixedFitError, match=r"corrupt|invalid"):
        load_fit(path)


def test_altered_estimates_fail_the_integrity_check(slopes, sleep, tmp_path):
    path = tmp_path / "fit.json"
    save_fit(slopes, path, data=sleep)
    _rewrite(path, lambda d: d["estimates"]["theta"]["values"].__setitem__(0, 0.5))
    with pytest.raises(mf.MixedFitError, match="does not reproduce"):
        load_fit(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_fit(tmp_path / "absent.json")


# ------------------------------------------------------------------ the model frame
def test_design_without_frame_needs_the_data(slopes, sleep, tmp_path):
    frameless = mf.LinearMixedModel(
        dataclasses.replace(slopes._design, frame=None), slopes._engine, slopes.formula
    )
    with pytest.raises(mf.MixedFitError, match="data="):
        save_fit(frameless, tmp_path / "fit.json")
    with pytest.raises(mf.MixedFitError, match="rows"):
        save_fit(frameless, tmp_path / "fit.json", data=sleep.head(50))
    altered = sleep.assign(Days=sleep["Days"] + 1)
    with pytest.raises(mf.MixedFitError, match="do not rebuild"):
        save_fit(frameless, tmp_path / "fit.json", data=altered)
    assert not list(tmp_path.iterdir())  # nothing written on failure
    save_fit(frameless, tmp_path / "fit.json", data=sleep)
    _assert_same(slopes, load_fit(tmp_path / "fit.json"))


def test_fit_save_method_uses_the_kept_frame(slopes, tmp_path):
    slopes.save(tmp_path / "fit.json.gz")
    _assert_same(slopes, mf.load_fit(tmp_path / "fit.json.gz"))


def test_unsupported_column_type_is_refused(sleep, tmp_path):
    data = sleep.assign(when=pd.Timestamp("2020-01-01") + pd.to_timedelta(sleep["Days"], "D"))
    fit = _fit("Reaction ~ Days + (1 | Subject) + (1 | when)", data)
    with pytest.raises(mf.MixedFitError, match="'when' has dtype datetime64"):
        save_fit(fit, tmp_path / "fit.json", data=data)


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([1.5, -0.0, 1e-300, 2.0**60 + 0.5]),
        pd.Series([1.5, 2.25], dtype=np.float32),
        pd.Series([1, -2, 2**62], dtype=np.int64),
        pd.Series([1, 2], dtype=np.int32),
        pd.Series([0, 255], dtype=np.uint8),
        pd.Series([True, False]),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([0.5, None], dtype="Float64"),
        pd.Series([True, None], dtype="boolean"),
        pd.Series(["a", "b", "é"], dtype=pd.StringDtype("python")),
        pd.Series(["a", "b"]).astype(str),
        pd.Series(np.array(["a", 1, 2.5, True, None], dtype=object)),
        pd.Series(pd.Categorical(["b", "a", "c"], categories=["c", "b", "a"])),
        pd.Series(pd.Categorical([3, 1, 3], categories=[3, 1, 2], ordered=True)),
        pd.Series(pd.Categorical([0.5, 1.5], categories=[1.5, 0.5])),
    ],
)
def test_column_round_trip(series):
    doc = json.loads(json.dumps(encode_column("x", series), allow_nan=False))
    back = decode_column(doc)
    pd.testing.assert_series_equal(back, series.reset_index(drop=True), check_exact=True)
    assert back.dtype == series.dtype


def test_singular_fit_round_trips(tmp_path):
    data = mf.load_dataset("dyestuff2")
    fit = _fit("Yield ~ 1 + (1 | Batch)", data)
    assert fit.singular
    with pytest.warns(mf.SingularFitWarning):  # the fit's warning again (lane lows28)
        loaded = _round_trip(fit, data, tmp_path / "singular.json")
    _assert_same(fit, loaded)
    assert loaded.singular
