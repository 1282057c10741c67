from __future__ import annotations

import json
from importlib import resources

import pandas as pd
import pytest

import mixedfit as mf

SCHEMA = json.loads(
    resources.files("mixedfit.io.datasets").joinpath("data", "schema.json").read_text()
)


def test_list_datasets():
    table = mf.list_datasets()
    assert sorted(table["name"]) == sorted(SCHEMA)
    assert (table["description"] != "").all()


@pytest.mark.parametrize("name", sorted(SCHEMA))
def test_load_dataset(name):
    df = mf.load_dataset(name)
    assert len(df) == SCHEMA[name]["nrow"]
    for col, levels in SCHEMA[name]["factors"].items():
        assert isinstance(df[col].dtype, pd.CategoricalDtype)
        assert list(df[col].cat.categories) == levels
        assert df[col].notna().all()


def test_case_insensitive_and_fresh_copy():
    a = mf.load_dataset("SleepStudy")
    a.loc[0, "Reaction"] = -1
    assert mf.load_dataset("sleepstudy").loc[0, "Reaction"] != -1


def test_unknown_dataset():
    with pytest.raises(KeyError, match="no bundled data set named 'nope'"):
        mf.load_dataset("nope")
