"""Plots render headless to PNG (matplotlib's Agg backend)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the plot extra is not installed")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import mixedfit as mf  # noqa: E402
from mixedfit.report.plots import plot_profile, plot_ranef, plot_residuals  # noqa: E402

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def fit():
    return mf.lmer("Reaction ~ Days + (Days | Subject)", mf.load_dataset("sleepstudy"))


def _png(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.read_bytes()[:4] == PNG and path.stat().st_size > 5_000


def test_caterpillar(fit, tmp_path):
    fig = plot_ranef(fit, "Subject")
    assert len(fig.axes) == 2  # Intercept and Days panels
    _png(fig, tmp_path, "ranef")
    with pytest.raises(mf.MixedFitError, match="no grouping factor"):
        plot_ranef(fit, "Nope")


def test_residuals(fit, tmp_path):
    fig = plot_residuals(fit)
    assert [ax.get_title() for ax in fig.axes] == ["Residuals vs fitted", "Normal QQ plot"]
    _png(fig, tmp_path, "residuals")


def test_profile(tmp_path):
    fit = mf.lmer("Yield ~ 1 + (1 | Batch)", mf.load_dataset("dyestuff"))
    fig = plot_profile(fit, points=5)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["sd_(Intercept)|Batch", "sigma", "(Intercept)"]
    _png(fig, tmp_path, "profile")


# ------------------------------------------------------- notebook display, caterpillar order


def _rows(ax):
    """Level positions and BLUPs of the points a caterpillar panel draws."""
    line = ax.lines[0]
    return np.asarray(line.get_ydata()), np.asarray(line.get_xdata())


@pytest.mark.parametrize("make", ["ranef", "residuals", "profile"])
def test_figures_are_not_left_open_in_pyplot(fit, make, tmp_path):
    """A notebook draws open pyplot figures at the end of a cell and the returned figure again:
    the plots close theirs (a file or inline backend), and still save."""
    plt.close("all")
    if make == "ranef":
        fig = plot_ranef(fit)
    elif make == "residuals":
        fig = plot_residuals(fit)
    else:
        fig = plot_profile(
            mf.lmer("Yield ~ 1 + (1 | Batch)", mf.load_dataset("dyestuff")), points=3
        )
    assert plt.get_fignums() == []
    _png(fig, tmp_path, make)


@pytest.mark.parametrize(
    ("backend", "closed"),
    [
        ("module://matplotlib_inline.backend_inline", True),
        ("agg", True),
        ("pdf", True),
        ("qtagg", False),
        ("module://ipympl.backend_nbagg", False),
    ],
)
def test_close_depends_on_backend(fit, monkeypatch, backend, closed):
    plt.close("all")
    monkeypatch.setattr(matplotlib, "get_backend", lambda: backend)
    fig = plot_residuals(fit)
    assert (fig.number not in plt.get_fignums()) is closed
    plt.close("all")


def test_caterpillar_panels_share_the_first_columns_order(fit):
    values = fit.ranef["Subject"]
    fig = plot_ranef(fit, "Subject")
    order = np.argsort(values.iloc[:, 0].to_numpy(), kind="stable")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [str(v) for v in values.index[order]]
    for ax, col in zip(fig.axes, values.columns, strict=True):
        pos, b = _rows(ax)
        assert list(pos) == list(range(18))
        np.testing.assert_allclose(b, values[col].to_numpy()[order])  # same rows in each panel
    assert not np.all(np.diff(_rows(fig.axes[1])[1]) >= 0)  # second panel is not re-sorted


def test_caterpillar_sort_options(fit):
    values = fit.ranef["Subject"]
    col = values.columns[1]
    by_slope = plot_ranef(fit, "Subject", sort=str(col))
    np.testing.assert_allclose(_rows(by_slope.axes[1])[1], np.sort(values[col].to_numpy()))
    unsorted = plot_ranef(fit, "Subject", sort=False)
    np.testing.assert_allclose(_rows(unsorted.axes[0])[1], values.iloc[:, 0].to_numpy())
    with pytest.raises(mf.MixedFitError, match="sort='nope' is not a random-effect column"):
        plot_ranef(fit, "Subject", sort="nope")
    with pytest.raises(mf.MixedFitError, match="top must be a positive integer"):
        plot_ranef(fit, "Subject", top=0)


def test_caterpillar_of_3000_levels_with_top(tmp_path):
    rng = np.random.default_rng(3)
    n_levels, per = 3000, 4
    g = np.repeat(np.arange(n_levels), per)
    x = rng.normal(size=g.size)
    u0, u1 = rng.normal(0, 1.0, n_levels), rng.normal(0, 0.5, n_levels)
    y = 1 + 0.5 * x + u0[g] + u1[g] * x + rng.normal(0, 0.5, g.size)
    df = pd.DataFrame({"y": y, "x": x, "g": [f"L{i:04d}" for i in g]})
    big = mf.lmer("y ~ x + (x | g)", df)
    values = big.ranef["g"]
    assert len(values) == n_levels

    start = time.perf_counter()
    fig = plot_ranef(big, "g", top=25)
    fig.savefig(tmp_path / "top.png")
    elapsed_top = time.perf_counter() - start
    first = values.iloc[:, 0].to_numpy()
    expected = np.argsort(-np.abs(first), kind="stable")[:25]
    expected = expected[np.argsort(first[expected], kind="stable")]
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == list(values.index[expected])  # the 25 most extreme, sorted
    for ax, col in zip(fig.axes, values.columns, strict=True):
        pos, b = _rows(ax)
        assert len(pos) == 25
        np.testing.assert_allclose(b, values[col].to_numpy()[expected])
    assert "top 25 of 3000" in fig.get_suptitle()

    start = time.perf_counter()
    whole = plot_ranef(big, "g")
    whole.savefig(tmp_path / "all.png")
    elapsed_all = time.perf_counter() - start
    assert len(_rows(whole.axes[0])[0]) == n_levels
    ticks = [t.get_text() for t in whole.axes[0].get_yticklabels()]
    assert len(ticks) < 20 and not any(t.startswith("L") for t in ticks)  # ranks, not names
    assert "rank of 3000 levels" in whole.axes[0].get_ylabel()
    assert whole.get_size_inches()[1] < 15  # a readable height, not 0.18 in per level
    assert elapsed_top < 10 and elapsed_all < 20  # generous bounds on a loaded machine
