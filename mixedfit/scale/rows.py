"""Row-level outputs of a fit from cross products, by one more streaming pass over the source.

The fit holds no rows, so ``.fitted``, ``.resid`` and ``.fixed`` (broom.mixed's ``augment``
columns) are computed chunk by chunk: each chunk is encoded with the fit's recipe (the levels
and transform states of pass 1) and the estimates β̂ and b̂ applied to it, as the in-memory fit
computes its fitted values; rows the fit dropped for a missing value get NaN, as
``augment(data)`` gives them. Chunks are yielded (:func:`augment_chunks`) or written to a
Parquet file one at a time (:func:`write_augment`), so memory stays bounded; predictions on a
streamed source (:func:`predict_chunks`) go the same way.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..design.build import _used_columns
from ..exceptions import MixedFitError
from ..formula import parse_formula
from .crossproducts import check_offset_column
from .daskreduce import is_dask_frame
from .encode import ChunkEncoder
from .sources import ChunkSource

__all__ = ["augment_chunks", "predict_chunks", "source_chunks", "write_augment"]

AUGMENT_COLUMNS = (".fitted", ".resid", ".fixed")


def source_chunks(
    source: Any, chunk_rows: int, columns: list[str] | None = None
) -> tuple[list[str], Iterator[pd.DataFrame]]:
    """The source's column names and its chunks (of ``columns``, default all), in order: the
    chunks of :class:`.sources.ChunkSource`, or a Dask DataFrame's partitions one at a time."""
    if is_dask_frame(source):
        names = [str(c) for c in source.columns]
        wanted = names if columns is None else columns

        def parts() -> Iterator[pd.DataFrame]:
            for part in source[wanted].to_delayed():
                yield part.compute()

        return names, parts()
    src = ChunkSource(source, chunk_rows)
    names = src.columns()
    return names, src.chunks(names if columns is None else columns)


def augment_chunks(fit: Any, source: Any, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Each chunk of ``source`` (every column) with ``.fitted``, ``.resid`` and ``.fixed``.

    Raises
    ------
    DataError
        A level or combination the fit never saw (the source is not the one fitted), a type
        that changed.
    """
    spec = fit._design.spec
    solution = fit._engine.solution
    names, chunks = source_chunks(source, chunk_rows)
    used = _used_columns(
        parse_formula(fit.crossproducts.formula), pd.DataFrame(columns=names), {"np": np}
    )
    offset = fit.crossproducts.offset
    used = used + check_offset_column(offset, names, used)
    encoder = ChunkEncoder(spec, used, None, offset)
    for chunk in chunks:
        out = chunk.copy()  # the index kept (a pandas source: as augment(data))
        complete = ~out[used].isna().any(axis=1).to_numpy()
        values = {name: np.full(len(out), np.nan) for name in AUGMENT_COLUMNS}
        arrays = encoder.encode(out)
        if arrays is not None:
            off = encoder.offsets(out.loc[complete].reset_index(drop=True))
            fixed = arrays.X @ solution.beta + off
            fitted = fixed.copy()
            for Z, refs, b in zip(arrays.Z, arrays.refs, solution.b, strict=True):
                fitted += np.einsum("nk,nk->n", Z, b[refs])
            values[".fitted"][complete] = fitted
            values[".resid"][complete] = arrays.y + off - fitted
            values[".fixed"][complete] = fixed
        for name, column in values.items():
            out[name] = column
        yield out


def write_augment(fit: Any, path: str | os.PathLike[str], source: Any, chunk_rows: int) -> int:
    """Write :func:`augment_chunks` to one Parquet file, a row group per chunk; the rows
    written. The file is written beside ``path`` and moved there once every chunk is written:
    ``path`` may be a file of the source (still being read), and a pass that fails leaves what
    was at ``path`` as it was."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(target))
    temp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.part")
    os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # the umask applies
    writer = None
    rows = 0
    try:
        try:
            for frame in augment_chunks(fit, source, chunk_rows):
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(temp, table.schema)
                else:
                    table = table.cast(writer.schema)
                writer.write_table(table)
                rows += len(frame)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise MixedFitError(f"the source has no rows: nothing was written to {target!r}")
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return rows


def predict_chunks(
    predict: Callable[[pd.DataFrame, np.ndarray | None], np.ndarray | pd.DataFrame],
    source: Any,
    chunk_rows: int,
    formula: str,
    offset: str | None = None,
) -> np.ndarray | pd.DataFrame:
    """``predict(chunk, offsets)`` applied to each chunk of a streamed source (only the columns
    ``formula`` names, and the ``offset`` column whose values are the offsets, are read), the
    results joined in order."""
    names, _ = source_chunks(source, chunk_rows, [])
    wanted = parse_formula(formula).variables() | ({offset} if offset else set())
    _, chunks = source_chunks(source, chunk_rows, [c for c in names if c in wanted])
    parts = [
        predict(
            chunk.reset_index(drop=True),
            None if offset is None else chunk[offset].to_numpy(dtype=float),
        )
        for chunk in chunks
    ]
    if not parts:
        return np.zeros(0)
    frames = [p for p in parts if isinstance(p, pd.DataFrame)]
    if frames:
        return pd.concat(frames, ignore_index=True)
    return np.concatenate([np.asarray(p) for p in parts])
