"""conftest's file order under xdist: SLOW_FIRST names test files that exist (a renamed or
removed file would silently lose its place at the front)."""

from __future__ import annotations

from pathlib import Path

from conftest import SLOW_FIRST


def test_slow_first_names_existing_test_files() -> None:
    here = Path(__file__).parent
    assert [name for name in SLOW_FIRST if not (here / name).is_file()] == []
    assert len(set(SLOW_FIRST)) == len(SLOW_FIRST)
