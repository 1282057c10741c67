"""save / load_fit of fits with a residual covariance structure (issue 12): round trips of reference
fits, refused tampering, safe mode, the structure allow-list (mixedfit.io.residual_file)."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_residual_api import REF, load, public_fit

import mixedfit as mf
from mixedfit.engine.residual import ResidualFit
from mixedfit.engine.residual.criterion import ResidualCriterion
from mixedfit.engine.solution import solve
from mixedfit.exceptions import ConvergenceWarning, MixedFitError
from mixedfit.io.persist import load_parts
from mixedfit.io.structure_codec import STRUCTURES, decode_structure, encode_structure
from mixedfit.model import engine_terms

ROUND_TRIPS = [
    "orthodont_gls_un_reml",  # gls UN
    "orthodont_lme_ri_ar1_reml",  # lme RI + AR1
    "orthodont_lme_ri_ar1_ml",  # ML
    "bodyweight_lme_slope_varpower_car1_reml",  # VarPower & CAR1
    "orthodont_gls_cs_varident_sex_reml",  # combined &
    "ovary_lme_diag_arma11_reml",  # ARMA(1,1), || terms
    "fev_mmrm_us_reml",  # MMRM with missing rows
    "fev_mmrm_ar1h_reml",  # heterogeneous
]


@functools.cache
def _reference_fit(name: str) -> Any:
    """A reference's fit, made once (the tests only read, save and compare it)."""
    ref = json.loads((REF / f"{name}.json").read_text())
    return public_fit(ref, load(ref["data"]))


@pytest.fixture(scope="module")
def orthodont() -> pd.DataFrame:
    return load("orthodont.csv")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """RI + AR1 on Orthodont (``distance ~ Sex * age_c + (1 | Subject)``, AR1 by occ within
    Subject: the reference orthodont_lme_ri_ar1_reml's call), saved plain: its fit and document."""
    fit = _reference_fit("orthodont_lme_ri_ar1_reml")
    path = tmp_path_factory.mktemp("saved") / "fit.json"
    fit.save(path)
    return {"fit": fit, "doc": json.loads(path.read_text())}


def _write(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(doc))
    return path


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(doc))


def assert_same_fit(a: Any, b: Any) -> None:
    """Every estimate and derived table of two residual-structure fits identical."""
    assert type(b) is mf.ResidualMixedModel
    assert (a.formula, a.reml, a.nobs, a.n_dropped, a.converged, a.dof) == (
        b.formula,
        b.reml,
        b.nobs,
        b.n_dropped,
        b.converged,
        b.dof,
    )
    for name in ("objective", "loglik", "aic", "bic", "sigma"):
        assert getattr(a, name) == getattr(b, name), name
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a._engine.phi, b._engine.phi)
    pd.testing.assert_series_equal(a.fixef, b.fixef)
    pd.testing.assert_frame_equal(a.vcov, b.vcov)
    pd.testing.assert_series_equal(a.residual.params, b.residual.params)
    assert a.residual.structure == b.residual.structure
    pd.testing.assert_frame_equal(a.varcorr, b.varcorr)
    pd.testing.assert_frame_equal(a.coef_table(), b.coef_table())  # Satterthwaite
    np.testing.assert_array_equal(a._design.rows, b._design.rows)
    assert repr(a) == repr(b)


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_reference_fits_round_trip(name: str, tmp_path: Path) -> None:
    fit = _reference_fit(name)
    path = tmp_path / "fit.json.gz"
    fit.save(path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the recomputed derivative check passes
        loaded = mf.load_fit(path)
    assert_same_fit(fit, loaded)
    doc = json.loads(gzip.decompress(path.read_bytes()))
    assert doc["model"]["class"] == "ResidualMixedModel" and doc["version"] == 2


def test_residual_cov_of_a_loaded_fit(saved: dict[str, Any], tmp_path: Path) -> None:
    loaded = mf.load_fit(_write(saved["doc"], tmp_path / "f.json"))
    pd.testing.assert_frame_equal(saved["fit"].residual_cov("M01"), loaded.residual_cov("M01"))


def test_by_groups_round_trip(orthodont: pd.DataFrame, tmp_path: Path) -> None:
    fit = mf.gls(
        "distance ~ Sex * age_c", orthodont, residual=mf.CompoundSymmetry("Subject", by="Sex")
    )
    assert list(fit.residual.params.index) == ["Male:Rho", "Female:Rho", "Male", "Female"]
    fit.save(tmp_path / "by.json")
    assert_same_fit(fit, mf.load_fit(tmp_path / "by.json"))


def test_spatial_and_varexp_round_trip(tmp_path: Path) -> None:
    df = load("bodyweight.csv")
    fit = mf.lmer(
        "weight ~ Time + (1 | Rat)",
        df,
        residual=mf.Spatial(("Time",), "Rat") & mf.VarExp("Time"),
    )
    fit.save(tmp_path / "sp.json")
    doc = json.loads((tmp_path / "sp.json").read_text())
    assert doc["residual"]["structure"]["correlation"] == {
        "class": "Spatial",
        "fields": {
            "coords": ["Time"],
            "subject": "Rat",
            "kind": "exponential",
            "nugget": False,
            "by": None,
        },
    }
    assert_same_fit(fit, mf.load_fit(tmp_path / "sp.json"))


def test_stored_frame_has_structure_columns_and_categories(saved: dict[str, Any]) -> None:
    names = [c["name"] for c in saved["doc"]["data"]["columns"]]
    assert sorted(names) == ["Sex", "Subject", "age_c", "distance", "occ"]
    residual = saved["doc"]["residual"]
    assert residual["structure"] == {
        "class": "AR1",
        "fields": {"time": "occ", "subject": "Subject", "heterogeneous": False, "by": None},
    }
    assert list(residual["params"]) == ["Phi"]


@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_every_allowed_class_encodes_and_decodes(name: str) -> None:
    cls, kinds = STRUCTURES[name]
    values = {"str": "a", "str|null": "b", "bool": True, "int": 1, "coords": ["x", "y"]}
    values["kind"] = "spherical"
    spec = cls(
        **{
            k: (tuple(v) if isinstance(v, list) else v)
            for k, v in ((k, values[kind]) for k, kind in kinds.items())
        }
    )
    assert decode_structure(encode_structure(spec)) == spec


# ----------------------------------------------------------------------------- tampering
def _set(path: str, value: Any) -> Any:
    def edit(doc: dict[str, Any]) -> None:
        *head, last = path.split(".")
        target = doc
        for key in head:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value

    return edit


def _scale_phi(doc: dict[str, Any]) -> None:
    doc["residual"]["phi"]["values"][0] *= 1.001


def _scale_param(doc: dict[str, Any]) -> None:
    doc["residual"]["params"]["Phi"] *= 1.0001


def _shift_time(doc: dict[str, Any]) -> None:
    (col,) = [c for c in doc["data"]["columns"] if c["name"] == "occ"]
    values = col["values"] if "values" in col else col["codes"]
    values[1], values[2] = values[2], values[1]  # a subject's visits reordered


def _consistent_phi(doc: dict[str, Any]) -> None:
    """φ and the record edited together: the criterion no longer matches."""
    doc["residual"]["phi"]["values"][0] += 0.01
    doc["optimizer"]["theta"]["array"]["values"][-1] += 0.01


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_scale_phi, "does not reproduce its fit: sigma"),
        (_consistent_phi, "does not reproduce its fit: the criterion"),
        (_scale_param, "the residual structure's Phi"),
        (_shift_time, "does not reproduce its fit"),
        (_set("residual.structure.class", "os.system"), "not one of mixedfit's residual"),
        (_set("residual.structure.class", "ResidualStructure"), "not one of mixedfit's"),
        (_set("residual.structure.fields.heterogeneous", "yes"), "invalid value"),
        (_set("residual.structure.fields.time", "__import__('os')"), "not the distinct"),
        (_set("residual.structure.fields.time", "age_c"), "not the distinct columns"),
        (_set("residual.structure.fields.subject", "Sex"), "duplicated|does not reproduce"),
        (_set("residual.structure.fields.extra", 1), "unknown field"),
        (_set("residual.structure.fields", {"time": "occ"}), "missing field"),
        (_set("residual.params", {"rho": 0.5}), "residual.params must name"),
        (_set("residual.phi.shape", [2]), "residual.phi"),
        (_set("residual.phi.values", ["Infinity"]), "not finite"),
        (_set("model.class", "LinearMixedModel"), "unknown field 'residual'"),
        (_set("model.class", "Other"), "unknown model class"),
        (_set("convergence", {}), "must be null"),
        (
            _set("data.weights", {"dtype": "float64", "shape": [108], "values": [1.0] * 108}),
            "weights must be null",
        ),
        (_set("estimates.sigma", 1.5), "sigma"),
    ],
)
def test_tampered_files_are_refused(
    edit: Any, message: str, saved: dict[str, Any], tmp_path: Path
) -> None:
    doc = _copy(saved["doc"])
    edit(doc)
    with pytest.raises(MixedFitError, match=message):
        mf.load_fit(_write(doc, tmp_path / "bad.json"))


def test_missing_residual_block_is_refused(saved: dict[str, Any], tmp_path: Path) -> None:
    doc = _copy(saved["doc"])
    del doc["residual"]
    with pytest.raises(MixedFitError, match="missing field 'residual'"):
        mf.load_fit(_write(doc, tmp_path / "bad.json"))


def test_combined_parts_are_checked(tmp_path: Path, orthodont: pd.DataFrame) -> None:
    fit = _reference_fit("orthodont_gls_cs_varident_sex_reml")
    fit.save(tmp_path / "c.json")
    doc = json.loads((tmp_path / "c.json").read_text())
    corr = doc["residual"]["structure"]["correlation"]
    swapped = _copy(doc)
    swapped["residual"]["structure"]["variances"] = [corr]
    with pytest.raises(MixedFitError, match="holds a correlation structure"):
        mf.load_fit(_write(swapped, tmp_path / "bad.json"))
    deep = _copy(doc)
    node: dict[str, Any] = deep["residual"]["structure"]
    for _ in range(20):  # nesting beyond the cap is refused before parsing
        node["correlation"] = {"class": "Combined", "correlation": None, "variances": []}
        node = node["correlation"]
    with pytest.raises(MixedFitError, match="nested"):
        mf.load_fit(_write(deep, tmp_path / "deep.json"))


# ----------------------------------------------------------------------------- safe mode
@pytest.mark.parametrize(
    "formula",
    [
        "distance ~ Sex * age_c + __import__('os').getcwd()",
        "distance ~ I(Sex.__class__) + (1 | Subject)",
        "distance ~ np.log(age) + (1 | Subject)",  # age is not a stored column
    ],
)
def test_unsafe_stored_formula_is_not_evaluated(
    formula: str, saved: dict[str, Any], tmp_path: Path
) -> None:
    doc = _copy(saved["doc"])
    doc["model"]["formula"] = formula
    with pytest.raises(MixedFitError, match="not a safe formula"):
        mf.load_fit(_write(doc, tmp_path / "bad.json"))


def test_trusted_transform_formula_round_trips(orthodont: pd.DataFrame, tmp_path: Path) -> None:
    fit = mf.gls("np.log(distance) ~ Sex + age_c", orthodont, residual=mf.AR1("occ", "Subject"))
    fit.save(tmp_path / "log.json")
    assert_same_fit(fit, mf.load_fit(tmp_path / "log.json"))  # safe: loads without trust
    assert_same_fit(fit, mf.load_fit(tmp_path / "log.json", trust=True))


def test_size_cap_applies(saved: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    from mixedfit.io import persist

    path = _write(saved["doc"], tmp_path / "f.json")
    monkeypatch.setattr(persist, "MAX_FILE_BYTES", 1000)
    with pytest.raises(MixedFitError, match="too large"):
        mf.load_fit(path)


def test_load_parts_refuses_a_residual_file(saved: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(MixedFitError, match="residual covariance structure"):
        load_parts(_write(saved["doc"], tmp_path / "f.json"))


def test_ordinary_fits_still_save_and_load(tmp_path: Path) -> None:
    df = mf.load_dataset("sleepstudy")
    fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
    fit.save(tmp_path / "o.json")
    doc = json.loads((tmp_path / "o.json").read_text())
    assert "residual" not in doc and doc["model"]["class"] == "LinearMixedModel"
    loaded = mf.load_fit(tmp_path / "o.json")
    assert type(loaded) is mf.LinearMixedModel and loaded.objective == fit.objective


# ----------------------------------------------------------------------------- convergence
def test_derivative_check_is_recomputed_on_load(saved: dict[str, Any], tmp_path: Path) -> None:
    """A consistent file at a point that is not the optimum, with a record claiming
    convergence, loads with a ConvergenceWarning (the check is recomputed, not trusted)."""
    fit = saved["fit"]
    design, engine = fit._design, fit._engine
    crit = ResidualCriterion(engine_terms(design), design.X, design.y - design.offset, engine.model)
    theta, phi = engine.theta, engine.phi + 0.2
    x = np.concatenate([theta, phi])
    objective = crit.objective(x, True)
    factor = crit.factor_at(phi)
    moved = ResidualFit(
        theta,
        phi,
        objective,
        True,
        dataclasses.replace(engine.record, theta=x, objective=objective, converged=True),
        solve(factor, theta, True),
        factor,
        engine.model,
    )
    off = mf.ResidualMixedModel(design, moved, fit.formula, fit._structure, fit._bound, fit._frame)
    off.save(tmp_path / "off.json")
    with pytest.warns(ConvergenceWarning, match="records a converged optimizer"):
        loaded = mf.load_fit(tmp_path / "off.json")
    assert loaded.objective == objective
