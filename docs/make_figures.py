"""Redraw the figures of the documentation pages: ``python docs/make_figures.py``.

Runs the ```python blocks of each page below in one namespace, as tests/test_docs.py does, and
saves every figure a block creates, in order, as ``docs/img/<page>-<n>.png`` (n from 1); the
pages embed the images by these names. Run it after changing a page's plotting code.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DOCS = Path(__file__).parent
PAGES = ["school-scores.md", "examples.md"]


def main() -> None:
    (DOCS / "img").mkdir(exist_ok=True)
    for name in PAGES:
        page = DOCS / name
        namespace: dict[str, object] = {}
        count = 0
        plt.close("all")
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S):
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                exec(compile(block, str(page), "exec"), namespace)
            for number in plt.get_fignums():
                count += 1
                out = DOCS / "img" / f"{page.stem}-{count}.png"
                plt.figure(number).savefig(out, dpi=80)
                print(out.relative_to(DOCS.parent))
            plt.close("all")


if __name__ == "__main__":
    main()
