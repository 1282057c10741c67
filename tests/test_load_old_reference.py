"""Files saved before nlme's reference level (session 8) load, refitted, never silently wrong.

The fixtures (tests/reference/cov_oldfiles/, made by its make_old_files.py with the code of
b88a6dd, the commit before the 'ref' merge) are fits of tests/reference/cov_ref's unsorted data
whose σ̂ was the sd of another level than nlme's; they stopped loading ("does not reproduce").
They load now with a MixedFitWarning, refitted with nlme's reference level: checked against
nlme's numbers (tests/reference/cov_ref/cov_ref.json). An altered old file is still refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mixedfit as mf

HERE = Path(__file__).parent / "reference"
OLD = HERE / "cov_oldfiles"
CASES = json.loads((HERE / "cov_ref" / "cov_ref.json").read_text())
FILES = sorted(p.stem for p in OLD.glob("*.json"))


def test_fixtures_present() -> None:
    assert len(FILES) == 5


@pytest.mark.parametrize("name", FILES)
def test_old_file_loads_with_nlmes_reference(name: str) -> None:
    ref = CASES[name]
    with pytest.warns(mf.MixedFitWarning, match="earlier mixedfit whose reference level"):
        fit = mf.load_fit(OLD / f"{name}.json")
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-6)
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-4)
    beta = np.array(list(ref["beta"].values()))
    assert np.allclose(fit.fixef.to_numpy(), beta, rtol=1e-4, atol=1e-4 * np.abs(beta).max())
    mine = fit.residual.params
    for level, ratio in ref["ratios"].items():
        if ratio == 1:
            assert mine[level] == 1.0, level
        else:
            assert mine[level] == pytest.approx(ratio, rel=2e-3), level
    stored = json.loads((OLD / f"{name}.json").read_text())
    assert stored["estimates"]["sigma"] != pytest.approx(ref["sigma"], rel=1e-2)  # another level


def test_old_file_refitted_saves_and_loads_silently(tmp_path: Path) -> None:
    with pytest.warns(mf.MixedFitWarning, match="earlier mixedfit"):
        fit = mf.load_fit(OLD / "D_rm_gls_un_ml.json")
    fit.save(tmp_path / "new.json")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", mf.MixedFitWarning)
        again = mf.load_fit(tmp_path / "new.json")
    assert again.loglik == fit.loglik
    assert list(again.residual.params.index) == list(fit.residual.params.index)


@pytest.mark.parametrize("name", ["A_sleep_ri_varident", "D_rm_gls_un_ml"])
def test_altered_old_file_refused(tmp_path: Path, name: str) -> None:
    document = json.loads((OLD / f"{name}.json").read_text())
    first = next(iter(document["residual"]["params"]))
    value = document["residual"]["params"][first]
    document["residual"]["params"][first] = value * 1.01 if isinstance(value, float) else 0.5
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(document))
    with pytest.raises(mf.MixedFitError, match=r"altered|residual\.params"):
        mf.load_fit(path)
