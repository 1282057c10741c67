"""Redraw the copies of the figures kept in docs/img: ``python docs/make_figures.py``.

The built site makes its figures itself (the ``gen_outputs`` hook runs every page's code at
build time); these copies only let the pages linking them (below) show figures when read on
GitHub. Runs the ```python blocks of each page as the hook does and saves figure n of page
``p.md`` as ``docs/img/p-<n>.png``, the name the page links and the build replaces.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).parent
PAGES = ["school-scores.md", "examples.md"]


def main() -> None:
    sys.path.insert(0, str(DOCS))
    from gen_outputs import image_name, run_page

    (DOCS / "img").mkdir(exist_ok=True)
    for name in PAGES:
        outputs = run_page((DOCS / name).read_text(), name)
        pngs = [png for output in outputs for png in output.figures]
        for number, png in enumerate(pngs, start=1):
            out = DOCS / image_name(name, number)
            out.write_bytes(png)
            print(out.relative_to(DOCS.parent))


if __name__ == "__main__":
    main()
