"""Saved fits from untrusted files: loading evaluates no code from the file (the stored formula
must pass safe mode unless ``trust=True``), refuses altered data or estimates, malformed or
missing fields, and files too large or too deeply nested, before doing anything costly."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mixedfit as mf
from mixedfit import load_fit
from mixedfit.io import fitfile
from mixedfit.io.persist import save_fit


def _fit(formula: str, data: pd.DataFrame, **kwargs: Any) -> mf.LinearMixedModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        return mf.lmer(formula, data, **kwargs)


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return mf.load_dataset("sleepstudy")


@pytest.fixture(scope="module")
def saved(sleep, tmp_path_factory) -> dict[str, Any]:
    """The document of a saved fit with random slopes (loaded once, copied per test)."""
    fit = _fit("Reaction ~ Days + (Days | Subject)", sleep)
    path = tmp_path_factory.mktemp("saved") / "fit.json"
    save_fit(fit, path)
    return json.loads(path.read_text())


def _write(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(doc))
    return path


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(doc))


def _column(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["data"]["columns"] if c["name"] == name)


def test_untampered_document_loads(saved, tmp_path):
    fit = load_fit(_write(_copy(saved), tmp_path / "fit.json"))
    assert fit.theta.tolist() == saved["estimates"]["theta"]["values"]


# ------------------------------------------------------------------ item 8: no code runs
ATTACKS = [
    "Reaction ~ Days + offset(0*len(str(__import__('os').system('touch {m}')))) + (Days | Subject)",
    "Reaction ~ Days + I(__import__('os').system('touch {m}')) + (Days | Subject)",
    "Reaction ~ Days + (0 + I(len(str(__import__('os').system('touch {m}')))) | Subject)",
    "np.log(Reaction + 0*len(str(__import__('os').system('touch {m}')))) ~ Days + (1 | Subject)",
    "Reaction ~ Days + {{__import__('os').system('touch {m}')}} + (Days | Subject)",
    "Reaction ~ Days + I(np.__dict__['__builtins__']) + (Days | Subject)",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_stored_formula_is_not_evaluated(attack, saved, tmp_path):
    marker = tmp_path / "marker"
    doc = _copy(saved)
    doc["model"]["formula"] = attack.format(m=marker)
    path = _write(doc, tmp_path / "attack.json")
    with pytest.raises(mf.MixedFitError, match=r"not a safe formula.*trust=True"):
        load_fit(path)
    assert not marker.exists()


def test_trusted_file_with_an_unsafe_formula_loads(sleep, tmp_path):
    fit = _fit("Reaction ~ Days + I(np.where(Days > 4, 1.0, 0.0)) + (1 | Subject)", sleep)
    path = tmp_path / "fit.json"
    save_fit(fit, path)
    with pytest.raises(mf.MixedFitError, match=r"np\.where.*load_fit\(path, trust=True\)"):
        load_fit(path)
    assert load_fit(path, trust=True).fixef.tolist() == fit.fixef.tolist()


def test_safe_formula_with_transforms_loads_untrusted(sleep, tmp_path):
    formula = "np.log(Reaction) ~ center(Days) + I(Days**2) + offset(0.1 * Days) + (1 | Subject)"
    fit = _fit(formula, sleep)
    path = tmp_path / "fit.json.gz"
    save_fit(fit, path)
    assert load_fit(path).objective == fit.objective


def test_stored_columns_must_be_the_formula_variables(saved, tmp_path):
    doc = _copy(saved)
    extra = dict(_column(doc, "Days"), name="np")
    doc["data"]["columns"].append(extra)
    with pytest.raises(mf.MixedFitError, match=r"corrupt.*columns the formula uses"):
        load_fit(_write(doc, tmp_path / "fit.json"))


def test_version_1_file_needs_trust(saved, tmp_path):
    doc = _copy(saved)
    doc["version"] = 1
    del doc["estimates"]["ranef"]
    path = _write(doc, tmp_path / "v1.json")
    with pytest.raises(mf.MixedFitError, match=r"version 1.*trust=True"):
        load_fit(path)
    assert load_fit(path, trust=True).theta.tolist() == saved["estimates"]["theta"]["values"]


# ------------------------------------------------------------------ item 9: altered numbers
def _shift_response(doc):
    reaction = _column(doc, "Reaction")
    reaction["values"] = [v + 10.0 for v in reaction["values"]]


def _shift_offset(doc):
    offset = doc["data"]["offset"]
    offset["values"] = [v + 5.0 for v in offset["values"]]


def _rotate_levels(doc):
    categories = _column(doc, "Subject")["categories"]
    categories["values"] = categories["values"][1:] + categories["values"][:1]


def _scale(doc, *keys, index=0, factor=1.0 + 1e-4):
    entry = doc["estimates"]
    for key in keys:
        entry = entry[key]
    values = entry["values"] if isinstance(entry, dict) and "values" in entry else None
    if values is None:
        parent = doc["estimates"]
        for key in keys[:-1]:
            parent = parent[key]
        parent[keys[-1]] = entry * factor
    else:
        values[index] *= factor


TAMPERED = {
    "response shifted": (_shift_response, r"fixed effects at the saved theta"),
    "offset shifted": (_shift_offset, r"fixed effects at the saved theta"),
    "levels rotated": (_rotate_levels, r"levels of the term for 'Subject'"),
    "theta 1e-4": (lambda d: _scale(d, "theta"), "sigma is"),
    "theta 1e-4 slope": (lambda d: _scale(d, "theta", index=2), "sigma is"),
    "beta": (lambda d: _scale(d, "beta", index=1, factor=1 + 1e-6), "fixed effects"),
    "sigma": (lambda d: _scale(d, "sigma", factor=1 + 1e-6), "sigma is"),
    "objective": (lambda d: _scale(d, "objective", factor=1 + 1e-7), "criterion"),
    "ranef": (
        lambda d: d["estimates"]["ranef"][0]["b"]["values"].__setitem__(3, 1.0),
        "random effects of 'Subject'",
    ),
    "weights added": (
        lambda d: d["data"].update(
            weights={"dtype": "float64", "shape": [180], "values": [1.0] * 90 + [2.0] * 90}
        ),
        "criterion",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_altered_files_are_refused(case, saved, tmp_path):
    change, message = TAMPERED[case]
    doc = _copy(saved)
    change(doc)
    with pytest.raises(mf.MixedFitError, match=rf"does not reproduce its fit: .*{message}"):
        load_fit(_write(doc, tmp_path / "fit.json"))


def test_relabelled_string_groups_are_refused(sleep, tmp_path):
    # sorted levels are unchanged by a cyclic relabelling of the values: only b̂ reveals it
    data = sleep.assign(Subject=sleep["Subject"].astype(str).astype(object))
    fit = _fit("Reaction ~ Days + (Days | Subject)", data)
    path = tmp_path / "fit.json"
    save_fit(fit, path)
    doc = json.loads(path.read_text())
    subject = _column(doc, "Subject")
    levels = sorted(set(subject["values"]))
    relabel = dict(zip(levels, levels[1:] + levels[:1], strict=True))
    subject["values"] = [relabel[v] for v in subject["values"]]
    with pytest.raises(mf.MixedFitError, match="random effects of 'Subject'"):
        load_fit(_write(doc, path))


# ------------------------------------------------------------------ malformed files
MALFORMED = {
    "version 0": (lambda d: d.update(version=0), "invalid fit format version 0"),
    "version text": (lambda d: d.update(version="2"), "invalid fit format version '2'"),
    "version bool": (lambda d: d.update(version=True), "invalid fit format version True"),
    "no theta": (lambda d: d["estimates"].pop("theta"), "missing field 'estimates.theta'"),
    "no data": (lambda d: d.pop("data"), "missing field 'data'"),
    "no rows": (lambda d: d["data"].pop("rows"), "missing field 'data.rows'"),
    "no ranef": (lambda d: d["estimates"].pop("ranef"), "missing field 'estimates.ranef'"),
    "no levels": (
        lambda d: d["estimates"]["ranef"][0].pop("levels"),
        r"missing field 'estimates.ranef\[0\].levels'",
    ),
    "no record field": (lambda d: d["optimizer"].pop("message"), "missing fields"),
    "unknown field": (lambda d: d["data"].update(extra=1), "unknown field 'data.extra'"),
    "formula type": (lambda d: d["model"].update(formula=3), "'model.formula' must be a str"),
    "nrow type": (lambda d: d["data"].update(nrow="180"), "'data.nrow' must be an integer"),
    "theta text": (
        lambda d: d["estimates"]["theta"]["values"].__setitem__(0, "1.0"),
        "estimates.theta values must be numbers",
    ),
    "theta shape": (
        lambda d: d["estimates"]["theta"].update(shape=[4]),
        "'estimates.theta': its shape",
    ),
    "theta negative": (
        lambda d: d["estimates"]["theta"]["values"].__setitem__(0, -1.0),
        "negative diagonal",
    ),
    "level code": (
        lambda d: _column(d, "Subject")["codes"].__setitem__(5, 18),
        "column 'Subject': level code 18 is out of range",
    ),
    "negative code": (
        lambda d: _column(d, "Subject")["codes"].__setitem__(5, -2),
        "level code -2 is out of range",
    ),
    "missing code": (
        lambda d: _column(d, "Subject")["codes"].__setitem__(5, -1),
        "missing values",
    ),
    "short column": (
        lambda d: _column(d, "Days")["values"].pop(),
        "column 'Days': expected a list of 180 values",
    ),
    "int overflow": (
        lambda d: _column(d, "Days")["values"].__setitem__(0, 2**70),
        "out of the range",
    ),
    "rows range": (
        lambda d: d["data"]["rows"]["values"].__setitem__(179, 180),
        r"data.rows must be increasing row positions between 0 and 179",
    ),
    "rows order": (
        lambda d: d["data"]["rows"]["values"].__setitem__(0, 1),
        "data.rows must be increasing",
    ),
    "n_dropped": (lambda d: d["data"].update(n_dropped=-1), "n_dropped is negative"),
    "record theta": (
        lambda d: d["optimizer"]["theta"]["array"]["values"].__setitem__(0, 0.5),
        "optimizer record's theta",
    ),
    "record type": (
        lambda d: d["optimizer"].update(evaluations="many"),
        "field 'evaluations' has the wrong type",
    ),
    "record shape": (
        lambda d: d["optimizer"]["theta_start"]["array"].update(shape=[3, 1]),
        r"optimizer.theta_start must be an array of shape \(3,\)",
    ),
    "check shape": (
        lambda d: d["convergence"]["hessian"]["array"].update(shape=[9]),
        r"convergence.hessian must be an array of shape \(3, 3\)",
    ),
    "column kind": (
        lambda d: _column(d, "Days").update(kind="pickle"),
        "unknown column kind 'pickle'",
    ),
    "column dtype": (
        lambda d: _column(d, "Days").update(dtype="object"),
        "unsupported column dtype 'object'",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_are_refused(case, saved, tmp_path):
    change, message = MALFORMED[case]
    doc = _copy(saved)
    change(doc)
    with pytest.raises(mf.MixedFitError, match=message):
        load_fit(_write(doc, tmp_path / "fit.json"))


# ------------------------------------------------------------------ size and nesting
@pytest.mark.parametrize("depth", [40, 200_000])
def test_deeply_nested_json_is_refused(depth, saved, tmp_path):
    text = json.dumps(_copy(saved))
    nested = "[" * depth + "]" * depth
    path = tmp_path / "nested.json"
    path.write_text(text[:-1] + f', "pad": {nested}}}')
    with pytest.raises(mf.MixedFitError, match=rf"nested {depth + 1} levels deep"):
        load_fit(path)


def test_nesting_depth_ignores_brackets_in_strings():
    assert fitfile.nesting_depth(b'{"a": "[[[[\\"{{{", "b": [[1], {"c": []}]}') == 4
    assert fitfile.nesting_depth(b"  12  ") == 0


def test_gzip_bomb_is_refused_without_expanding_it(tmp_path, monkeypatch):
    """A file of ~1 MB that expands to 1 GiB is refused once the decompressed bytes pass the
    cap: checked by what was decompressed (the reads of the gzip stream, counted) and the peak
    memory, not by the time it took (was: < 5 s, a timing assertion that failed once under
    load)."""
    member = gzip.compress(b" " * 2**20, mtime=0)  # 1 MiB of spaces, about 1 kB compressed
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(member * 1024)  # a gzip file of about 1 MB that expands to 1 GiB
    assert path.stat().st_size < 2**21
    reads: list[tuple[int, int]] = []  # (size asked, bytes returned) per read of the stream

    class Counted(gzip.GzipFile):
        def read(self, size: int | None = -1) -> bytes:
            out = super().read(size)
            reads.append((-1 if size is None else size, len(out)))
            return out

    monkeypatch.setattr(fitfile.gzip, "GzipFile", Counted)
    cap = 2**24  # the cap lowered to 16 MiB (the same check; 256 MiB by default) to stay cheap
    monkeypatch.setattr("mixedfit.io.persist.MAX_FILE_BYTES", cap)
    tracemalloc.start()
    try:
        with pytest.raises(mf.MixedFitError, match="too large for a mixedfit fit file"):
            load_fit(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reads and all(0 < size <= 2**20 for size, _ in reads)  # bounded chunks, never all
    expanded = sum(n for _, n in reads)
    assert cap < expanded <= cap + 2**20  # stopped at the chunk that passed the cap
    assert peak < cap + 2**24  # far below 1 GiB


def test_size_cap_applies_to_plain_and_compressed_files(saved, tmp_path, monkeypatch):
    text = json.dumps(_copy(saved)).encode()
    plain, packed = tmp_path / "fit.json", tmp_path / "fit.json.gz"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text))
    monkeypatch.setattr("mixedfit.io.persist.MAX_FILE_BYTES", len(text) - 1)
    for path in (plain, packed):
        with pytest.raises(mf.MixedFitError, match=rf"more than {len(text) - 1} bytes"):
            load_fit(path)
    monkeypatch.setattr("mixedfit.io.persist.MAX_FILE_BYTES", len(text))
    assert load_fit(packed).theta.tolist() == load_fit(plain).theta.tolist()


def test_damaged_gzip_stream_is_refused(saved, tmp_path):
    raw = bytearray(gzip.compress(json.dumps(_copy(saved)).encode()))
    raw[len(raw) // 2] ^= 0xFF
    path = tmp_path / "fit.json.gz"
    path.write_bytes(bytes(raw))
    with pytest.raises(mf.MixedFitError, match="not a mixedfit fit file"):
        load_fit(path)


def test_non_strict_json_constants_are_refused(saved, tmp_path):
    text = json.dumps(_copy(saved)).replace('"seconds":', '"seconds": NaN, "x":', 1)
    path = tmp_path / "fit.json"
    path.write_text(text)
    with pytest.raises(mf.MixedFitError, match="not strict JSON"):
        load_fit(path)


def test_nan_estimate_values_do_not_pass_as_equal(saved, tmp_path):
    doc = _copy(saved)
    doc["estimates"]["beta"]["values"][0] = "NaN"
    with pytest.raises(mf.MixedFitError, match="fixed effects"):
        load_fit(_write(doc, tmp_path / "fit.json"))


def test_load_recomputes_the_derivative_check(tmp_path, sleepstudy):
    """A file claiming convergence at a θ that is not an optimum loads as not converged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        fit = mf.lmer(
            "Reaction ~ Days + (Days | Subject)", sleepstudy, max_evals=3, start=[3, 0, 3]
        )
    assert not fit.converged
    path = tmp_path / "stopped.json"
    fit.save(path)
    doc = json.loads(path.read_text())
    doc["optimizer"]["converged"] = True
    doc["convergence"] = None
    doc["gradient"] = None
    path.write_text(json.dumps(doc))
    with pytest.warns(mf.ConvergenceWarning, match="failed to converge"):  # (lane lows28)
        loaded = mf.load_fit(path)
    assert not loaded.converged
    assert "failed to converge" in loaded._engine.check.message
