"""MkDocs hook (mkdocs.yml ``hooks:``): the output of every example, generated at build time.

Every fenced ```` ```python ```` block of a page runs when the site is built, top to bottom in one
namespace per page (as ``tests/test_docs.py`` runs them), and the page shows, right after each
block, what the block printed (a ```` ```text ```` block) and the figures it made (PNG images).
Nothing is pasted: change the code and the output follows. A block that should be shown but not
run is fenced ```` ```py ````; a page opts out as a whole with the comment
``<!-- gen-outputs: off -->``. A block that raises stops the build with the page and block
number.

Figures are the matplotlib figures a block leaves open in pyplot, and the ``Figure`` objects it
binds to names (mixedfit's plots close theirs in pyplot, see :mod:`mixedfit.report.plots`).
Figure *n* of page ``p.md`` becomes ``img/p-n.png`` in the built site; if the page already links
that image (a copy kept in ``docs/img`` for reading the pages on GitHub, written by
``python docs/make_figures.py``), the build replaces the file and keeps the link and its alt
text, otherwise the image is inserted after the block's output.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: A fenced Python block, as tests/test_docs.py finds them.
BLOCK = re.compile(r"^```python\n(.*?)^```[ \t]*$", re.S | re.M)
OPT_OUT = "<!-- gen-outputs: off -->"


@dataclass
class BlockOutput:
    """What one block printed and the figures (PNG bytes) it made."""

    text: str
    figures: list[bytes] = field(default_factory=list)


def _new_figures(namespace: dict[str, Any], seen: list[Any]) -> list[Any]:
    """Figures open in pyplot or bound to names that were not collected before (in order)."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - the docs extra has matplotlib
        return []
    found = [plt.figure(n) for n in plt.get_fignums()]
    found += [v for v in namespace.values() if isinstance(v, Figure)]
    new = []
    for fig in found:
        if not any(fig is s for s in seen) and not any(fig is s for s in new):
            new.append(fig)
    seen.extend(new)
    for fig in new:
        plt.close(fig)
    return new


def _png(fig: Any, dpi: int = 80) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _run_block(
    code: str, namespace: dict[str, Any], seen: list[Any], name: str, number: int
) -> BlockOutput:
    stdout = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(stdout):
            warnings.simplefilter("ignore")
            exec(compile(code, f"{name}, block {number}", "exec"), namespace)
    except Exception as error:
        raise RuntimeError(f"{name}: python block {number} failed: {error!r}") from error
    figures = [_png(fig) for fig in _new_figures(namespace, seen)]
    return BlockOutput(stdout.getvalue(), figures)


def run_page(markdown: str, name: str = "<page>") -> list[BlockOutput]:
    """Run the ```python blocks of a page in one namespace; one :class:`BlockOutput` each.

    Raises
    ------
    RuntimeError
        A block raised (the message names the page and the block, from 1).
    """
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace: dict[str, Any] = {"__name__": "__docs__"}
    seen: list[Any] = [plt.figure(n) for n in plt.get_fignums()]  # open before the page: not its
    outputs = []
    try:  # a page's pandas display options and matplotlib settings end with the page
        with matplotlib.rc_context():
            for number, code in enumerate(BLOCK.findall(markdown), start=1):
                outputs.append(_run_block(code, namespace, seen, name, number))
    finally:
        pd.reset_option("^display")
    return outputs


def image_name(page: str, number: int) -> str:
    """Link to figure ``number`` (from 1) of the page ``page``, relative to the page's folder."""
    return f"img/{Path(page).stem}-{number}.png"


def insert_outputs(markdown: str, outputs: list[BlockOutput], page: str = "page.md") -> str:
    """The page with each block's printed text and its figures inserted after the block (a
    figure whose image the page already links is not inserted again)."""
    blocks = list(BLOCK.finditer(markdown))
    if len(blocks) != len(outputs):
        raise RuntimeError(f"{page}: {len(blocks)} python blocks but {len(outputs)} outputs")
    pieces, last, count = [], 0, 0
    for match, output in zip(blocks, outputs, strict=True):
        pieces.append(markdown[last : match.end()])
        last = match.end()
        if output.text.strip():
            pieces.append(f"\n\n```text\n{output.text.rstrip()}\n```")
        for _ in output.figures:
            count += 1
            link = image_name(page, count)
            if f"]({link})" not in markdown:
                pieces.append(f"\n\n![Figure {count} of this page]({link})")
    pieces.append(markdown[last:])
    return "".join(pieces)


_OUTPUTS: dict[str, list[BlockOutput]] = {}


def on_files(files: Any, config: Any) -> Any:
    """Run every page's blocks once, and add their figures to the site's files."""
    from mkdocs.structure.files import File

    _OUTPUTS.clear()
    for page in list(files.documentation_pages()):
        markdown = Path(page.abs_src_path).read_text(encoding="utf-8")
        if OPT_OUT in markdown or not BLOCK.search(markdown):
            continue
        outputs = run_page(markdown, page.src_uri)
        _OUTPUTS[page.src_uri] = outputs
        count = 0
        for output in outputs:
            for png in output.figures:
                count += 1
                uri = posixpath.join(
                    posixpath.dirname(page.src_uri), image_name(page.src_uri, count)
                )
                old = files.get_file_from_path(uri)
                if old is not None:
                    files.remove(old)
                files.append(File.generated(config, uri, content=png))
    return files


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Insert the outputs computed by :func:`on_files` into the page."""
    outputs = _OUTPUTS.get(page.file.src_uri)
    if outputs is None:
        return markdown
    return insert_outputs(markdown, outputs, page.file.src_uri)
