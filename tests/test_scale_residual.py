"""``residual=`` for streamed sources (issue 14): ``mf.VarIdent`` from cross products summed per
stratum equals the in-memory fit (objective 1e-9 relative, β 1e-6; φ, θ, σ, vcov, BLUPs and
their conditional sds to the optimizer's tolerance), by REML and ML, with an offset column;
structures whose statistics are not additive over chunks (AR1, CAR1, CS, VarPower, products)
and what needs the rows are refused with messages saying what to do. Dask partitions (1 or
several, a 2-process cluster) give the same fit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scale_data import crossed

import mixedfit as mf

pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test extra")
pads = pytest.importorskip("pyarrow.dataset")

FORMULA = "y ~ x + g + (1 + x | user) + (1 | item)"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    df = crossed(seed=3)
    rng = np.random.default_rng(1)
    df["grp"] = rng.choice(["lo", "mid", "hi"], len(df))
    df["y"] = df["y"] + np.where(df["grp"] == "hi", 2.0, 0.0) * rng.normal(size=len(df))
    df["y"] += 0.5 * (df["g"] == "c")  # no β near 0 (compared to 1e-6 relative)
    df.loc[40, "grp"] = None  # a missing stratum drops its row, as in memory
    df["o"] = 0.2 * rng.normal(size=len(df))
    df["visit"] = np.arange(len(df)) % 8
    return df


@pytest.fixture(scope="module")
def folder(data: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("varident")
    for k in range(3):
        data.iloc[k * 800 : (k + 1) * 800].to_parquet(d / f"p{k}.parquet", index=False)
    return d


@pytest.fixture(scope="module")
def fitted(data: pd.DataFrame, folder: Path) -> Callable[[str, bool], Any]:
    """The fits several tests compare with, each made once: ``memory`` (VarIdent in memory),
    ``plain`` (σ²I on the rows with a stratum) and ``parquet`` (VarIdent streamed from the
    folder), by REML or ML."""
    cache: dict[tuple[str, bool], Any] = {}

    def get(kind: str, reml: bool) -> Any:
        if (kind, reml) not in cache:
            structure = mf.VarIdent("grp")
            if kind == "memory":
                fit = mf.lmer(FORMULA, data, residual=structure, reml=reml)
            elif kind == "plain":
                fit = mf.lmer(FORMULA, data.dropna(subset=["grp"]), reml=reml)
            else:
                fit = mf.lmer(FORMULA, str(folder / "*.parquet"), residual=structure, reml=reml)
            cache[kind, reml] = fit
        return cache[kind, reml]

    return get


def _same(memory, fit) -> None:
    assert abs(fit.objective - memory.objective) <= 1e-9 * abs(memory.objective)
    np.testing.assert_allclose(fit.fixef.to_numpy(), memory.fixef.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        fit.residual.params.to_numpy(), memory.residual.params.to_numpy(), rtol=1e-5
    )
    assert list(fit.residual.params.index) == list(memory.residual.params.index)
    np.testing.assert_allclose(fit.theta, memory.theta, atol=1e-5)
    np.testing.assert_allclose(fit.sigma, memory.sigma, rtol=1e-5)
    V = memory.vcov.to_numpy()
    np.testing.assert_allclose(fit.vcov.to_numpy(), V, rtol=1e-5, atol=1e-5 * np.abs(V).max())
    for name, blups in memory.ranef.items():
        scale = np.abs(blups.to_numpy()).max()
        np.testing.assert_allclose(fit.ranef[name].to_numpy(), blups.to_numpy(), atol=1e-5 * scale)
        np.testing.assert_allclose(
            fit.ranef_condsd[name].to_numpy(), memory.ranef_condsd[name].to_numpy(), rtol=1e-5
        )
    np.testing.assert_allclose(
        fit.varcorr["sdcor"].to_numpy(), memory.varcorr["sdcor"].to_numpy(), rtol=1e-5, atol=1e-5
    )
    assert (fit.nobs, fit.n_dropped, fit.dof) == (memory.nobs, memory.n_dropped, memory.dof)
    np.testing.assert_allclose([fit.aic, fit.bic], [memory.aic, memory.bic], rtol=1e-9)
    table = fit.coef_table()  # Wald z from vcov
    np.testing.assert_allclose(
        table.to_numpy(), memory.coef_table(ddf="none").to_numpy(), rtol=1e-5, atol=1e-8
    )


@pytest.mark.parametrize("reml", [True, False])
def test_varident_stream_equals_in_memory(data, fitted, reml):
    structure = mf.VarIdent("grp")
    memory = fitted("memory", reml)
    plain = fitted("plain", reml)
    assert plain.objective - memory.objective > 10.0  # the structure matters
    fit = fitted("parquet", reml)
    assert isinstance(fit, mf.scale.residual.StreamedResidualModel)
    assert fit.reml is reml and fit.residual.params["hi"] > 2.0
    _same(memory, fit)
    dataset = pads.dataset(pa.Table.from_pandas(data, preserve_index=False))
    _same(memory, mf.lmer(FORMULA, dataset, residual=structure, reml=reml))


def test_varident_with_offset_and_categories(data, folder):
    df = data.assign(grp=pd.Categorical(data["grp"], categories=["mid", "hi", "lo"]))
    memory = mf.lmer(FORMULA, df, residual=mf.VarIdent("grp"), offset="o")
    dataset = pads.dataset(pa.Table.from_pandas(df, preserve_index=False))
    fit = mf.lmer(FORMULA, dataset, residual=mf.VarIdent("grp"), offset="o")
    _same(memory, fit)


@pytest.mark.parametrize("reml", [True, False])
def test_saved_strata_refit(data, folder, fitted, reml, tmp_path):
    structure = mf.VarIdent("grp")
    memory = fitted("memory", reml)
    scp = mf.crossproducts(FORMULA, str(folder / "*.parquet"), residual=structure, chunk_rows=500)
    assert isinstance(scp, mf.scale.strata.StratifiedCrossProducts)
    scp.save(tmp_path / "v.cp")
    loaded = mf.load_crossproducts(tmp_path / "v.cp")
    assert isinstance(loaded, mf.scale.strata.StratifiedCrossProducts)
    assert (loaded.by, loaded.labels, loaded.reference) == (scp.by, scp.labels, scp.reference)
    fit = mf.lmer(FORMULA, loaded, residual=structure, reml=reml)
    assert fit.source is None
    _same(memory, fit)
    plain = fitted("plain", reml)  # the same rows, σ²I
    total = mf.lmer(FORMULA, loaded, reml=reml)
    assert abs(total.objective - plain.objective) <= 1e-9 * abs(plain.objective)
    np.testing.assert_allclose(total.fixef.to_numpy(), plain.fixef.to_numpy(), rtol=1e-6)
    assert total.nobs == plain.nobs and total.n_dropped == plain.n_dropped + 1  # grp missing
    with pytest.raises(mf.MixedFitError, match="summed per level of 'grp', not 'g'"):
        mf.lmer(FORMULA, loaded, residual=mf.VarIdent("g"))
    with pytest.raises(mf.MixedFitError, match="residual=AR1"):
        mf.crossproducts(FORMULA, data, residual=mf.AR1("visit", "user"))


def test_strata_sum_to_the_total(data):
    from mixedfit.scale.strata import compute_stratified

    st = compute_stratified(FORMULA, data, "grp", chunk_rows=500)
    total = mf.crossproducts(FORMULA, data.dropna(subset=["grp"]), chunk_rows=500)
    ones = st.at(np.ones(3))
    assert st.labels == ["hi", "lo", "mid"] and st.labels[st.reference] == data["grp"].iloc[0]
    assert sum(s.n for s in st.strata) == total.n == ones.n
    np.testing.assert_allclose(ones.xy, total.xy, rtol=1e-12, atol=1e-9)
    for a, b in zip(ones.diag, total.diag, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    for key, (keys, values) in total.pairs.items():
        np.testing.assert_array_equal(ones.pairs[key][0], keys)
        np.testing.assert_allclose(ones.pairs[key][1], values, rtol=1e-14)


def test_likelihood_ratio_test_from_statistics(data, fitted, tmp_path):
    structure = mf.VarIdent("grp")
    kept = data.dropna(subset=["grp"])
    memory = mf.anova(
        fitted("plain", False), mf.lmer(FORMULA, kept, residual=structure, reml=False)
    )
    kept.to_parquet(tmp_path / "kept.parquet", index=False)
    glob = str(tmp_path / "*.parquet")
    streamed = mf.anova(
        mf.lmer(FORMULA, glob, reml=False), mf.lmer(FORMULA, glob, residual=structure, reml=False)
    )
    assert list(streamed["npar"]) == list(memory["npar"]) == [9, 11]
    for column in ("deviance", "chisq", "aic", "bic"):
        np.testing.assert_allclose(streamed[column], memory[column], rtol=1e-9)


@pytest.mark.parametrize(
    ("structure", "name", "why"),
    [
        (mf.AR1("visit", "user"), "AR1", "rows of a subject"),
        (mf.CAR1("visit", "user"), "CAR1", "rows of a subject"),
        (mf.CompoundSymmetry("user"), "CompoundSymmetry", "rows of a subject"),
        (mf.VarPower("x"), "VarPower", "continuous covariate"),
        (mf.AR1("visit", "user") & mf.VarIdent("grp"), "AR1", "rows of a subject"),
    ],
)
def test_other_structures_refused_clearly(folder, structure, name, why):
    with pytest.raises(mf.MixedFitError, match=rf"residual={name}.*{why}.*in memory"):
        mf.lmer(FORMULA, str(folder / "*.parquet"), residual=structure)


def test_what_needs_the_rows_is_refused(data, folder, fitted):
    fit = fitted("parquet", True)
    for name in ("fitted", "residuals", "scaled_residuals"):
        with pytest.raises(mf.MixedFitError, match="needs the rows"):
            getattr(fit, name)
    with pytest.raises(mf.MixedFitError, match="needs the rows"):
        fit.predict(data)
    with pytest.raises(mf.MixedFitError, match="needs the rows"):
        fit.coef_table(ddf="satterthwaite")
    with pytest.raises(mf.MixedFitError, match="needs the rows"):
        fit.refit(reml=False)
    for name in ("summary", "confint", "simulate", "bootstrap", "save"):
        with pytest.raises(mf.MixedFitError, match="needs the rows"):
            getattr(fit, name)()
    assert "VarIdent" in repr(fit)
    with pytest.raises(mf.MixedFitError, match="no sums per stratum"):  # saved: refused
        mf.lmer(FORMULA, mf.crossproducts(FORMULA, data), residual=mf.VarIdent("grp"))
    with pytest.raises(mf.MixedFitError, match="weights= is not supported with residual="):
        mf.lmer(FORMULA, str(folder / "*.parquet"), residual=mf.VarIdent("grp"), weights="o")
    with pytest.raises(mf.DataError, match="'nope' is not in the data"):
        mf.lmer(FORMULA, str(folder / "*.parquet"), residual=mf.VarIdent("nope"))


@pytest.mark.parametrize("reml", [True, False])
def test_varident_dask_equals_in_memory(data, reml):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    memory = mf.lmer(FORMULA, data, residual=mf.VarIdent("grp"), reml=reml, offset="o")
    for parts in (1, 4):
        frame = dd.from_pandas(data, npartitions=parts)
        fit = mf.lmer(FORMULA, frame, residual=mf.VarIdent("grp"), reml=reml, offset="o")
        _same(memory, fit)


def test_varident_dask_two_process_cluster(data, fitted):
    dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is in the test extra")
    distributed = pytest.importorskip("distributed", reason="distributed is in the test extra")
    memory = fitted("memory", True)
    frame = dd.from_pandas(data, npartitions=3)
    frame["grp"] = frame["grp"].astype("category")  # unknown categories per partition
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        fit = mf.lmer(FORMULA, frame, residual=mf.VarIdent("grp"))
    _same(memory, fit)
