"""Plots render headless to PNG (matplotlib's Agg backend)."""

from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the plot extra is not installed")
matplotlib.use("Agg")

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
