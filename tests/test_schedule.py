"""conftest's collection and file order: the scripts that made the reference data are not
collected, and SLOW_FIRST (the slow files scheduled first under xdist) names existing files."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from conftest import SLOW_FIRST, collect_ignore_glob

HERE = Path(__file__).parent


def test_reference_data_scripts_are_not_collected() -> None:
    """pyproject's --doctest-modules imported every .py under tests/ at collection, on every
    worker, the data scripts too: three without a __main__ guard ran and rewrote
    car1_large.csv.gz and car1_continuous.csv.gz (gzip's time stamp) in the working tree.
    conftest's collect_ignore_glob, matched as pytest matches it (each pattern joined to the
    conftest's folder, against the path or a folder above it: a folder ignored is not entered)."""
    scripts = sorted(p for folder in ("reference", "data") for p in (HERE / folder).rglob("*.py"))
    assert HERE / "reference" / "cov_car1_large" / "make_car1_large_data.py" in scripts
    globs = [str(HERE / pattern) for pattern in collect_ignore_glob]

    def ignored(path: Path) -> bool:
        return any(fnmatch.fnmatch(str(p), g) for p in (path, *path.parents) for g in globs)

    assert [p for p in scripts if not ignored(p)] == []
    assert not [p for p in HERE.glob("test_*.py") if ignored(p)]  # the tests themselves stay


def test_slow_first_names_existing_test_files() -> None:
    assert [name for name in SLOW_FIRST if not (HERE / name).is_file()] == []
    assert len(set(SLOW_FIRST)) == len(SLOW_FIRST)
