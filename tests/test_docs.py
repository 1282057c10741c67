"""Every ```python block in README.md and docs/*.md runs (blocks of one page share a namespace)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_code_blocks_run(page, capsys):
    namespace: dict[str, object] = {}
    code = blocks(page)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for block in code:
                exec(compile(block, str(page), "exec"), namespace)
    finally:  # a page's display options end with it (as in docs/gen_outputs.py)
        pd.reset_option("^display")


def test_docs_have_code():
    assert sum(len(blocks(p)) for p in PAGES) >= 10


def test_no_pasted_output_after_python_blocks():
    """The output of an example is generated at build time (docs/gen_outputs.py), not pasted."""
    for page in PAGES:
        pasted = re.findall(r"```python\n.*?^```\n\n```text\n", page.read_text(), flags=re.S | re.M)
        assert not pasted, f"{page.name}: remove the pasted output after a python block"
