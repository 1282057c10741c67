"""Fits from data larger than memory: the model's cross products summed over chunks of rows.

Stage: with the model (it builds designs, the engine's factor and its fit); imports the formula,
design, engine and model stages. :mod:`.sources` reads chunks (Parquet/CSV globs, pandas, pyarrow,
DuckDB), :mod:`.levels` is pass 1 (levels, counts, the missing-value filter, a prototype frame
that carries the design's recipe), :mod:`.encode` turns a chunk into the model's arrays,
:mod:`.accumulate` sums A = [Z X y]'[Z X y] in a fixed order (pass 2), :mod:`.crossproducts`
holds the result (:class:`CrossProducts`), :mod:`.store` saves and loads it (JSON + npz, no
pickle), :mod:`.fit` fits from it (from the moment start of :mod:`.start`) and
:mod:`.daskreduce` runs both passes on Dask partitions. :mod:`.transforms` fits ``scale``,
``poly``, ... over all rows in pass 1, :mod:`.progress` reports the passes and the fit, and
:mod:`.rows` streams row-level outputs (fitted values, residuals, predictions).
"""

from .crossproducts import CrossProducts, compute_cross_products, load_cross_products
from .fit import fit_cross_products
from .store import save_cross_products

__all__ = [
    "CrossProducts",
    "compute_cross_products",
    "fit_cross_products",
    "load_cross_products",
    "save_cross_products",
]
