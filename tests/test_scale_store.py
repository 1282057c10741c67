"""Saved cross products (issue 14): a safe format (npz without pickle + a JSON manifest with
the SHA-256 of every array), refits by ML and REML equal to the in-memory fit, tampered or
foreign files refused."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scale_data import FORMULA, assert_same_fit, crossed

import mixedfit as mf


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return crossed(seed=3)


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cp") / "ratings.cp"
    mf.crossproducts(FORMULA, data, chunk_rows=500).save(str(path))
    return str(path)


@pytest.mark.parametrize("reml", [True, False])
def test_round_trip_refits_equal_in_memory(saved, data, reml):
    cp = mf.load_crossproducts(saved)
    assert isinstance(cp, mf.CrossProducts)
    assert (cp.n, cp.n_dropped, cp.chunks) == (2398, 2, 5)
    assert_same_fit(mf.lmer(FORMULA, data, reml=reml), mf.lmer(FORMULA, cp, reml=reml))


def test_round_trip_is_exact(saved, data):
    cp = mf.crossproducts(FORMULA, data, chunk_rows=500)
    back = mf.load_crossproducts(saved)
    np.testing.assert_array_equal(back.xy, cp.xy)
    for a, b in zip(back.diag + back.fixed, cp.diag + cp.fixed, strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(back.frame, cp.frame, check_dtype=False)
    assert mf.lmer(FORMULA, back).objective == mf.lmer(FORMULA, cp).objective


def _rewrite(path: str, out: str, edit) -> None:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    edit(arrays)
    with open(out, "wb") as fh:
        np.savez(fh, **arrays)


def test_tampered_array_is_refused(saved, tmp_path):
    out = str(tmp_path / "tampered.cp")

    def edit(arrays):
        arrays["xy"] = arrays["xy"].copy()
        arrays["xy"][0, 1] += 1e-9

    _rewrite(saved, out, edit)
    with pytest.raises(mf.MixedFitError, match="array 'xy' was modified"):
        mf.load_crossproducts(out)


def test_tampered_manifest_is_refused(saved, tmp_path):
    out = str(tmp_path / "manifest.cp")

    def edit(arrays):
        manifest = json.loads(arrays["manifest"].tobytes())
        manifest["version"] = 99
        arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)

    _rewrite(saved, out, edit)
    with pytest.raises(mf.MixedFitError, match="version 99"):
        mf.load_crossproducts(out)

    def extra(arrays):
        arrays["evil"] = np.zeros(3)

    _rewrite(saved, out, extra)
    with pytest.raises(mf.MixedFitError, match="arrays missing or added"):
        mf.load_crossproducts(out)


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "text.cp"
    text.write_text("not an archive")
    with pytest.raises(mf.MixedFitError, match="not a valid mixedfit cross-products file"):
        mf.load_crossproducts(str(text))
    pickled = tmp_path / "pickle.cp"
    with open(pickled, "wb") as fh:
        np.savez(fh, manifest=np.array([{"a": 1}], dtype=object))
    with pytest.raises(mf.MixedFitError, match="not a valid"):
        mf.load_crossproducts(str(pickled))


def test_formula_in_file_never_evaluated_unless_trusted(saved, tmp_path):
    """Regression (review, session 5): a formula written into the manifest ran when the file was
    loaded (rebuilding the recipe evaluates it); it must pass safe mode first."""
    marker = tmp_path / "marker"
    out = str(tmp_path / "evil.cp")

    def edit(arrays):
        manifest = json.loads(arrays["manifest"].tobytes())
        manifest["formula"] = manifest["formula"].replace(
            "~", f"~ I(__import__('os').system('touch {marker}')) +", 1
        )
        arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)

    _rewrite(saved, out, edit)
    with pytest.raises(mf.MixedFitError, match="refused by safe mode"):
        mf.load_crossproducts(out)
    assert not marker.exists()


def test_safe_mode_checked_before_streaming(data, tmp_path):
    """Regression (review, session 5): lmer(..., safe=True) on a streamed source and
    crossproducts(..., safe=True) ran the formula; both are checked before any reading."""
    marker = tmp_path / "marker"
    data.to_parquet(tmp_path / "d.parquet", index=False)
    bad = FORMULA.replace("~", f"~ I(__import__('os').system('touch {marker}')) +", 1)
    with pytest.raises(mf.FormulaError):
        mf.lmer(bad, str(tmp_path / "*.parquet"), safe=True)
    with pytest.raises(mf.FormulaError):
        mf.crossproducts(bad, str(tmp_path / "*.parquet"), safe=True)
    with pytest.raises(mf.FormulaError):
        mf.lmer(bad, mf.crossproducts(FORMULA, data), safe=True)
    assert not marker.exists()
    fit = mf.lmer(FORMULA, str(tmp_path / "*.parquet"), safe=True)  # a safe formula still fits
    assert fit.nobs == len(data.dropna())


def test_options_a_streamed_fit_cannot_honour_are_refused(data, tmp_path):
    data.to_parquet(tmp_path / "d.parquet", index=False)
    for option in ({"names": "formulaic"}, {"context": {"f": abs}}):
        with pytest.raises(mf.MixedFitError, match="names="):
            mf.lmer(FORMULA, str(tmp_path / "*.parquet"), **option)
