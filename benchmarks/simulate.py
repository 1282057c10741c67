"""Benchmark data: the bundled data sets and two simulated designs, identical for every engine.

The simulated designs are drawn with numpy from fixed seeds, so each Python worker regenerates
exactly the DataFrame that :func:`write_for_r` wrote for R. R gets a CSV (factor columns as
strings, floats written to round-trip exactly) and a ``levels.csv`` with each factor's level
order, so R's factors have the same levels, in the same order, as the pandas Categoricals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["crossed_1e6", "load_data", "subjects_items", "write_for_r"]

SEED = 20240611


def _codes_to_factor(codes: np.ndarray, prefix: str, n_levels: int) -> pd.Categorical:
    width = len(str(n_levels))
    labels = [f"{prefix}{i + 1:0{width}d}" for i in range(n_levels)]
    return pd.Categorical.from_codes(codes, categories=labels).remove_unused_categories()


def _correlated_effects(
    rng: np.random.Generator, n: int, sd: tuple[float, float], rho: float
) -> np.ndarray:
    cov = np.array([[sd[0] ** 2, rho * sd[0] * sd[1]], [rho * sd[0] * sd[1], sd[1] ** 2]])
    return rng.multivariate_normal(np.zeros(2), cov, size=n)


def subjects_items(n_subj: int = 100, n_item: int = 100, seed: int = SEED) -> pd.DataFrame:
    """A fully crossed subjects × items design with correlated random slopes on both factors.

    Each subject sees every item once; the condition ``x`` (±0.5) is counterbalanced, so it
    varies within subjects and within items. Truth: β = (2, 0.5); subject SDs (1.0, 0.4),
    correlation 0.5; item SDs (0.7, 0.3), correlation −0.4; residual SD 1.

    Parameters
    ----------
    n_subj, n_item : int
        Numbers of subjects and items (rows = ``n_subj * n_item``).
    seed : int

    Returns
    -------
    pandas.DataFrame
        Columns ``y``, ``x``, ``subj``, ``item`` (Categoricals).
    """
    rng = np.random.default_rng(seed)
    subj = np.repeat(np.arange(n_subj), n_item)
    item = np.tile(np.arange(n_item), n_subj)
    x = np.where((subj + item) % 2 == 0, 0.5, -0.5)
    b_subj = _correlated_effects(rng, n_subj, (1.0, 0.4), 0.5)
    b_item = _correlated_effects(rng, n_item, (0.7, 0.3), -0.4)
    intercept = 2.0 + b_subj[subj, 0] + b_item[item, 0]
    slope = 0.5 + b_subj[subj, 1] + b_item[item, 1]
    y = intercept + slope * x + rng.normal(0.0, 1.0, size=subj.size)
    return pd.DataFrame(
        {
            "y": y,
            "x": x,
            "subj": _codes_to_factor(subj, "s", n_subj),
            "item": _codes_to_factor(item, "i", n_item),
        }
    )


def _user_counts(rng: np.random.Generator, n_users: int, n_items: int, n_rows: int) -> np.ndarray:
    """Ratings per user: at least 20, skewed like MovieLens, summing to ``n_rows``."""
    raw = rng.lognormal(mean=0.0, sigma=1.0, size=n_users)
    extra = np.floor(raw / raw.sum() * (n_rows - 20 * n_users)).astype(np.int64)
    counts = np.minimum(20 + extra, n_items // 2)
    short = n_rows - int(counts.sum())
    order = np.argsort(counts)  # top up the lightest users, one rating each, until exact
    while short > 0:
        step = min(short, n_users)
        counts[order[:step]] += 1
        short -= step
    return counts


def crossed_1e6(
    n_rows: int = 1_000_000, n_users: int = 6040, n_items: int = 3706, seed: int = SEED
) -> pd.DataFrame:
    """A MovieLens-1M-sized crossed design: users × items, each pair rated at most once.

    Users rate a skewed number of items (≥ 20 each); items are chosen without replacement with
    lognormal popularity (Gumbel top-k sampling). Truth: ``y = 3.5 + u[user] + v[item] + e``,
    SDs 0.45, 0.5 and 0.9.

    Parameters
    ----------
    n_rows, n_users, n_items : int
    seed : int

    Returns
    -------
    pandas.DataFrame
        Columns ``y``, ``user``, ``item`` (Categoricals; items never rated are dropped).
    """
    rng = np.random.default_rng(seed)
    counts = _user_counts(rng, n_users, n_items, n_rows)
    log_pop = np.log(rng.lognormal(mean=0.0, sigma=1.3, size=n_items))
    items = np.empty(n_rows, dtype=np.int64)
    start = 0
    for k in counts:
        keys = log_pop + rng.gumbel(size=n_items)
        items[start : start + k] = np.sort(np.argpartition(-keys, k - 1)[:k])
        start += k
    users = np.repeat(np.arange(n_users), counts)
    u = rng.normal(0.0, 0.45, size=n_users)
    v = rng.normal(0.0, 0.5, size=n_items)
    y = 3.5 + u[users] + v[items] + rng.normal(0.0, 0.9, size=n_rows)
    return pd.DataFrame(
        {
            "y": y,
            "user": _codes_to_factor(users, "u", n_users),
            "item": _codes_to_factor(items, "i", n_items),
        }
    )


_SIMULATED = {"subjects_items": subjects_items, "crossed_1e6": crossed_1e6}


def load_data(data: str) -> pd.DataFrame:
    """The DataFrame of a model's ``data`` field.

    Parameters
    ----------
    data : str
        A bundled data-set name, or ``sim:NAME`` for :func:`subjects_items` /
        :func:`crossed_1e6`.

    Returns
    -------
    pandas.DataFrame
    """
    if data.startswith("sim:"):
        return _SIMULATED[data.removeprefix("sim:")]()
    import mixedfit as mf

    return mf.load_dataset(data)


def write_for_r(df: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    """Write ``df`` for R: ``data.csv`` and ``levels.csv`` (column, level; in level order).

    Parameters
    ----------
    df : pandas.DataFrame
    folder : pathlib.Path
        Created if missing.

    Returns
    -------
    (data_csv, levels_csv) : tuple of pathlib.Path
    """
    folder.mkdir(parents=True, exist_ok=True)
    data_csv, levels_csv = folder / "data.csv", folder / "levels.csv"
    factors = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    out = df.copy()
    for col in factors:
        out[col] = out[col].astype(str)
    out.to_csv(data_csv, index=False, na_rep="", float_format="%.17g")
    rows = [(col, str(level)) for col in factors for level in df[col].cat.categories]
    pd.DataFrame(rows, columns=["column", "level"]).to_csv(levels_csv, index=False)
    return data_csv, levels_csv
