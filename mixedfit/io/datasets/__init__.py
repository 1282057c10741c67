"""Classic mixed-model data sets shipped with mixedfit (public data from R's lme4 and nlme).

Factor columns are returned as pandas Categoricals whose categories follow R's level order, so
the reference level of treatment contrasts matches lme4's.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

__all__ = ["list_datasets", "load_dataset"]

_DESCRIPTIONS = {
    "sleepstudy": "Reaction times (ms) of 18 subjects over 10 days of sleep deprivation.",
    "dyestuff": "Yield of dyestuff from 6 batches of an intermediate product, 5 preps each.",
    "dyestuff2": "Simulated data like dyestuff, no between-batch variance (a singular fit).",
    "penicillin": "Penicillin assay: inhibition-zone diameter, 24 plates crossed with 6 samples.",
    "pastes": "Strength of a chemical paste: 3 casks nested within each of 10 batches.",
    "cake": "Breakage angle of chocolate cakes: 3 recipes, 6 temperatures, 15 replicates.",
    "insteval": "Lecture ratings at ETH Zurich: 73,421 ratings, students crossed with lecturers.",
    "orthodont": "Orthodontic distance growth of 27 children measured at ages 8 to 14.",
    "machines": "Productivity scores of 6 workers on 3 machine types, 3 replicates each.",
}


@cache
def _schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", "schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def list_datasets() -> pd.DataFrame:
    """List the bundled data sets.

    Returns
    -------
    pandas.DataFrame
        One row per data set with columns ``name``, ``nrow``, ``factors`` (comma-separated
        factor columns) and ``description``.

    Examples
    --------
    >>> import mixedfit as mf
    >>> "sleepstudy" in set(mf.list_datasets()["name"])
    True
    """
    rows = [
        {
            "name": name,
            "nrow": info["nrow"],
            "factors": ", ".join(info["factors"]),
            "description": _DESCRIPTIONS.get(name, ""),
        }
        for name, info in _schema().items()
    ]
    return pd.DataFrame(rows)


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled data set as a DataFrame.

    Parameters
    ----------
    name : str
        Data-set name, case-insensitive (see :func:`list_datasets`), e.g. ``"sleepstudy"``.

    Returns
    -------
    pandas.DataFrame
        A fresh copy; factor columns are ``pandas.Categorical`` with R's level order.

    Raises
    ------
    KeyError
        If no data set has that name.

    Examples
    --------
    >>> import mixedfit as mf
    >>> df = mf.load_dataset("sleepstudy")
    >>> df.shape
    (180, 3)
    >>> list(df["Subject"].cat.categories[:3])
    ['308', '309', '310']
    """
    key = name.lower()
    schema = _schema()
    if key not in schema:
        known = ", ".join(sorted(schema))
        raise KeyError(f"no bundled data set named {name!r}; known data sets: {known}")
    info = schema[key]
    factors: dict[str, list[str]] = info["factors"]
    folder = resources.files(__package__).joinpath("data")
    path = folder.joinpath(info["file"])
    if not path.is_file():
        path = folder.joinpath(info["file"] + ".gz")
    with resources.as_file(path) as file:
        df = pd.read_csv(file, dtype={col: str for col in factors})
    for col, levels in factors.items():
        df[col] = pd.Categorical(df[col], categories=levels)
    return df
