"""MkDocs hook (mkdocs.yml ``hooks:``): pipes in code spans of Markdown tables.

GitHub needs ``\\|`` for a ``|`` inside a code span in a table cell (``(1 \\| g)``) and shows it
as ``|``; Python-Markdown keeps the backslash, but treats a plain ``|`` inside backticks as part
of the cell. So the pages are written for GitHub, and this hook drops the backslash from code
spans on table rows before MkDocs renders them.
"""

from __future__ import annotations

import re
from typing import Any

_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    lines = []
    in_fence = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.lstrip().startswith("|"):
            line = _CODE_SPAN.sub(lambda m: m.group(0).replace("\\|", "|"), line)
        lines.append(line)
    return "\n".join(lines)
