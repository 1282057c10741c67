"""The docs hook (docs/gen_outputs.py) generates each example's output and figures at build
time: on a tiny page directly, and through a real ``mkdocs build --strict`` of a tiny site."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the docs extra is not installed")

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "docs"))

import gen_outputs  # noqa: E402

PAGE = textwrap.dedent(
    """\
    # Tiny

    ```python
    import mixedfit as mf

    fit = mf.lmer("Yield ~ 1 + (1 | Batch)", mf.load_dataset("dyestuff"))
    print(round(fit.objective, 4))
    ```

    Quiet block:

    ```python
    x = 2
    ```

    ```python
    from mixedfit.report.plots import plot_residuals

    fig = plot_residuals(fit)
    print(x * 21)
    ```

    ```py
    this is shown, never run
    ```
    """
)


def test_run_page_collects_printed_text_and_figures():
    import matplotlib.pyplot as plt

    before = plt.figure()  # open before the page (another page or test): not the page's
    open_before = plt.get_fignums()
    outputs = gen_outputs.run_page(PAGE, "tiny.md")
    assert [o.text for o in outputs] == ["319.6543\n", "", "42\n"]  # lme4's REML criterion
    assert [len(o.figures) for o in outputs] == [0, 0, 1]  # a closed figure bound to a name
    assert outputs[2].figures[0][:4] == b"\x89PNG"
    assert plt.get_fignums() == open_before  # the page's figures closed, not the others
    plt.close(before)


def test_insert_outputs_after_each_block():
    outputs = gen_outputs.run_page(PAGE, "tiny.md")
    page = gen_outputs.insert_outputs(PAGE, outputs, "tiny.md")
    assert "print(round(fit.objective, 4))\n```\n\n```text\n319.6543\n```" in page
    assert "x = 2\n```\n\nQuiet block" not in page  # nothing printed: nothing inserted
    assert (
        "print(x * 21)\n```\n\n```text\n42\n```\n\n![Figure 1 of this page](img/tiny-1.png)" in page
    )
    linked = PAGE + "\n![My caption](img/tiny-1.png)\n"
    again = gen_outputs.insert_outputs(linked, outputs, "tiny.md")
    assert "Figure 1 of this page" not in again and again.count("img/tiny-1.png") == 1


def test_pyplot_figures_are_collected_once():
    page = "```python\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n```\n\n" * 2
    outputs = gen_outputs.run_page(page, "p.md")
    assert [len(o.figures) for o in outputs] == [1, 1]


def test_a_failing_block_names_page_and_block():
    page = "```python\nx = 1\n```\n\n```python\n1 / 0\n```\n"
    with pytest.raises(RuntimeError, match=r"p\.md: python block 2 failed: ZeroDivisionError"):
        gen_outputs.run_page(page, "p.md")


def test_mkdocs_build_strict_of_a_tiny_site(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    assert mkdocs is not None, "mkdocs is in the test extra: pip install '.[test]'"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(PAGE)
    (docs / "off.md").write_text("<!-- gen-outputs: off -->\n```python\nprint('never')\n```\n")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: tiny\nstrict: true\nnav:\n  - index.md\n  - off.md\n"
        f"hooks:\n  - {ROOT / 'docs' / 'gen_outputs.py'}\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run(
        [mkdocs, "build", "--strict", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert "319.6543" in html and "42" in html
    assert 'src="img/index-1.png"' in html
    assert (tmp_path / "site" / "img" / "index-1.png").read_bytes()[:4] == b"\x89PNG"
    assert "never</code>" not in (tmp_path / "site" / "off" / "index.html").read_text()
