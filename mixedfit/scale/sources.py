"""Chunks of rows from a source: Parquet or CSV paths and globs, pandas, pyarrow, DuckDB.

Every source is read as a sequence of pandas DataFrames of at most ``chunk_rows`` rows, in a fixed
order (files sorted by name, batches in file order), holding only the requested columns. A
source can be read more than once (pass 1 and pass 2).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import DataError

__all__ = ["ChunkSource", "is_streamed_source", "source_columns"]


def _files(pattern: str | os.PathLike[str]) -> list[str]:
    text = os.fspath(pattern)
    if os.path.isdir(text):
        found = sorted(glob.glob(os.path.join(text, "*.parquet")))
        found += sorted(glob.glob(os.path.join(text, "*.csv")))
    else:
        found = sorted(glob.glob(text))
    if not found:
        raise DataError(f"no files match {text!r}: give a Parquet or CSV file, glob or directory")
    for f in found:
        if not _kind(f):
            raise DataError(f"{f!r} is neither a Parquet (.parquet) nor a CSV (.csv) file")
    return found


def _kind(path: str) -> str:
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".csv", ".csv.gz")):
        return "csv"
    return ""


def _module_name(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def is_streamed_source(data: Any) -> bool:
    """True for what :class:`ChunkSource` reads (not a pandas DataFrame: that is in memory)."""
    if isinstance(data, str | Path):
        return True
    return _module_name(data) in ("pyarrow", "duckdb", "_duckdb")


class ChunkSource:
    """A re-readable source of DataFrame chunks.

    Parameters
    ----------
    data : str, path, pandas.DataFrame, pyarrow Table or Dataset, or DuckDB relation
    chunk_rows : int
        Largest number of rows per chunk.
    """

    def __init__(self, data: Any, chunk_rows: int) -> None:
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
            raise DataError(f"chunk_rows must be a positive integer, not {chunk_rows!r}")
        self.chunk_rows = chunk_rows
        self.data = data
        self.files = _files(data) if isinstance(data, str | Path) else None
        if (
            self.files is None
            and not isinstance(data, pd.DataFrame)
            and _module_name(data) not in ("pyarrow", "duckdb", "_duckdb")
        ):
            raise DataError(
                f"cannot read rows from a {type(data).__name__}: give a pandas DataFrame, "
                "a Parquet/CSV path or glob, a pyarrow Table or Dataset, a DuckDB relation "
                "or a Dask DataFrame"
            )

    def columns(self) -> list[str]:
        """The source's column names."""
        if self.files is not None:
            first = self.files[0]
            if _kind(first) == "parquet":
                import pyarrow.parquet as pq

                return list(pq.read_schema(first).names)
            return list(pd.read_csv(first, nrows=0).columns)
        if isinstance(self.data, pd.DataFrame):
            return list(map(str, self.data.columns))
        if _module_name(self.data) == "pyarrow":
            return list(self.data.schema.names)
        return list(self.data.columns)  # duckdb relation

    def chunks(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        """The rows in chunks, only ``columns``, in a fixed order."""
        n = self.chunk_rows
        if self.files is not None:
            for f in self.files:
                yield from _file_chunks(f, columns, n)
        elif isinstance(self.data, pd.DataFrame):
            frame = self.data[columns]
            for start in range(0, len(frame), n):
                yield frame.iloc[start : start + n]
        elif _module_name(self.data) == "pyarrow":
            yield from _arrow_chunks(self.data, columns, n)
        else:
            reader = _duckdb_reader(self.data, columns, n)
            for batch in reader:
                if batch.num_rows:
                    yield _to_pandas(batch)


def source_columns(data: Any) -> list[str]:
    """The column names of a source (for formula checks)."""
    return ChunkSource(data, 1).columns()


def _to_pandas(batch: Any) -> pd.DataFrame:
    return batch.to_pandas()


def _file_chunks(path: str, columns: list[str], n: int) -> Iterator[pd.DataFrame]:
    if _kind(path) == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        missing = sorted(set(columns) - set(parquet.schema_arrow.names))
        if missing:
            raise DataError(f"{path!r} lacks the column(s) {missing} used by the model")
        for batch in parquet.iter_batches(batch_size=n, columns=columns):
            if batch.num_rows:
                yield _to_pandas(batch)
        return
    header = list(pd.read_csv(path, nrows=0).columns)
    missing = sorted(set(columns) - set(header))
    if missing:
        raise DataError(f"{path!r} lacks the column(s) {missing} used by the model")
    with pd.read_csv(path, usecols=columns, chunksize=n) as reader:
        for chunk in reader:
            yield chunk[columns]


def _arrow_chunks(data: Any, columns: list[str], n: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.dataset as pads

    if isinstance(data, pads.Dataset):
        batches = data.to_batches(columns=columns, batch_size=n)
    elif isinstance(data, pa.Table):
        batches = data.select(columns).to_batches(max_chunksize=n)
    elif isinstance(data, pa.RecordBatchReader):
        raise DataError(
            "a RecordBatchReader can be read only once (a fit reads its source twice): give "
            "the Table, Dataset or DuckDB relation it comes from"
        )
    else:
        raise DataError(f"cannot read rows from a {type(data).__name__}")
    for batch in batches:
        if batch.num_rows:
            yield _to_pandas(batch)


def _duckdb_reader(rel: Any, columns: list[str], n: int) -> Any:
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    projected = rel.project(quoted)
    if hasattr(projected, "to_arrow_reader"):
        return projected.to_arrow_reader(n)
    return projected.fetch_record_batch(n)
