"""A data table named on the command line: a bundled data set, or a CSV/TSV/text, Excel or
Parquet file (``mixedfit fit DATA ...``).

Delimited text is read with the delimiter given (``--sep``) or sniffed from the start of the
file (comma, semicolon, tab or pipe); a missing optional reader (openpyxl, pyarrow) and an
unknown name are errors that say what to do, with "did you mean" for a near bundled name.
"""

from __future__ import annotations

import csv
import difflib
import gzip
from pathlib import Path

import pandas as pd

from ..exceptions import DataError
from .datasets import list_datasets, load_dataset

__all__ = ["SNIFFED_DELIMITERS", "read_table", "sniff_delimiter"]

#: Delimiters the sniffer chooses from.
SNIFFED_DELIMITERS = ",;\t|"
_EXCEL = {".xlsx", ".xlsm", ".xls"}
_PARQUET = {".parquet", ".pq"}
_SEP_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


def sniff_delimiter(path: Path, sample_bytes: int = 65_536) -> str:
    """The delimiter of a delimited text file (plain or ``.gz``), from its first bytes; a comma
    when the sample shows none of :data:`SNIFFED_DELIMITERS` (one column)."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        sample = handle.read(sample_bytes)
    lines = sample.splitlines()
    if len(lines) > 1 and len(sample) == sample_bytes:
        sample = "\n".join(lines[:-1])  # drop a line cut by the sample's end
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFFED_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _optional_reader(reader: str, package: str, path: Path) -> None:
    """Raise a :class:`DataError` naming the package ``reader`` needs when it is missing."""
    try:
        __import__(package)
    except ImportError:
        raise DataError(
            f"reading {path.name!r} needs {package} ({reader}): pip install {package}, or save "
            "the table as CSV"
        ) from None


def _unknown(source: str) -> DataError | FileNotFoundError:
    names = list(list_datasets()["name"])
    if Path(source).suffix or "/" in source or "\\" in source:
        return FileNotFoundError(f"no such file: {source!r}")
    close = difflib.get_close_matches(source.lower(), names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return DataError(
        f"no bundled data set named {source!r} and no such file{hint} "
        f"(bundled: {', '.join(names)}; see 'mixedfit datasets')"
    )


def read_table(source: str, sep: str | None = None) -> pd.DataFrame:
    """The table ``source`` names: a file path, else a bundled data set.

    Parameters
    ----------
    source : str
        Path to a ``.csv``/``.tsv``/``.txt``/``.dat`` file (optionally ``.gz``), an Excel
        workbook (``.xlsx``, first sheet; needs openpyxl) or a Parquet file (needs pyarrow);
        or the name of a bundled data set (:func:`mixedfit.list_datasets`).
    sep : str, optional
        Delimiter of a text file ("tab", "comma", "semicolon", "pipe", "space" or the
        character itself); sniffed when omitted.

    Raises
    ------
    DataError
        A reader package is missing, or no file and no bundled data set has that name (with
        the nearest bundled name).
    FileNotFoundError
        ``source`` looks like a file path but there is no such file.
    """
    path = Path(source)
    suffix = path.suffix.lower()
    if not path.is_file():
        if source.lower() in set(list_datasets()["name"]):
            return load_dataset(source.lower())
        raise _unknown(source)
    if suffix in _PARQUET:
        _optional_reader("Parquet", "pyarrow", path)
        return pd.read_parquet(path)
    if suffix in _EXCEL:
        _optional_reader("Excel", "openpyxl", path)
        return pd.read_excel(path)
    if sep is not None:
        delimiter = _SEP_NAMES.get(sep.lower(), sep)
    elif suffix == ".tsv":
        delimiter = "\t"
    else:
        delimiter = sniff_delimiter(path)
    return pd.read_csv(path, sep=delimiter)
