"""Saved fits: a fitted model to a plain, versioned JSON document and back, without refitting.

A saved fit holds what is needed to *rebuild* the model rather than a dump of its objects: the
formula, the method, the model frame (the data columns the model uses, rows left after dropping
missing values), the prior weights and offset, the original row positions and the estimates θ̂
with the optimizer's record. Loading re-evaluates the formula on the stored frame — formulaic
sees identical data, so it regenerates identical model specs (category levels, stateful
transforms such as ``center(x)``) for :meth:`~mixedfit.model.MixedModelFit.predict` — and
rebuilds the engine's factor at the stored θ̂ without optimizing. The criterion, β̂, σ̂ and
the BLUPs at θ̂ are recomputed and must match the stored ones (:mod:`.fitcheck`): the
integrity check of the file and of the libraries that evaluated it.

What loading checks and what it trusts
--------------------------------------
* **Code.** The only part of a file that is ever evaluated is the formula (formulaic evaluates
  its Python pieces with ``eval``). :func:`mixedfit.load_fit` first checks it with safe mode's
  checker, :func:`mixedfit.formula.safety.check_safe_formula` (as ``lmer(..., safe=True)``),
  against the stored column names, and refuses it unless it uses only those columns, numbers,
  formula operators and the functions of :data:`mixedfit.formula.safety.SAFE_FUNCTIONS`. Every
  stored column must be a variable of the formula. ``load_fit(path, trust=True)`` skips this check:
  then the formula can run any Python code, so use it only for files you trust (a formula with
  context functions or other calls needs it).
* **Parsing.** JSON only (no pickle), at most :data:`MAX_FILE_BYTES` bytes after decompression
  (gzip is decompressed in chunks and stopped at the cap), at most
  :data:`mixedfit.io.fitfile.MAX_DEPTH` levels of nesting (counted before parsing), strict JSON;
  every field is checked for presence and type, unknown fields are refused
  (:mod:`.fitfile`, :mod:`.jsoncodec`): array shapes and dtypes, column values of their dtype,
  level codes within their categories, no missing values in the model frame, row positions
  increasing within the original data, θ̂ finite and within its bounds.
* **Recomputed and compared.** The design from the stored data and formula, then at the
  stored θ̂: the criterion (relative 1e-9), β̂, σ̂ and the BLUPs b̂ (relative 1e-8 of their
  scales), the fixed-effect names and each random-effects term's group, levels (in order) and
  columns. An edited response, offset, weight, level label or estimate is refused. When a
  random slope's column lies so far from 0 that the fit read its estimates off centred columns
  (:class:`mixedfit.engine.centring.CentredOptimum`), the file also holds θ̂' of the centred
  columns (``estimates.theta_centred``): everything is recomputed there, as the fit did, and
  θ̂' must map back to the stored θ̂.
* **Trusted as stored.** That θ̂ is the optimum (nothing is re-optimized: a file whose θ̂,
  β̂, σ̂, b̂ and criterion were all changed consistently describes the model at another θ and
  loads); the data themselves (the check is of consistency, not of origin: anyone can write a
  consistent file for other data by fitting them; files are not signed); the optimizer's record
  and the convergence diagnostics (evaluations, messages, gradient, Hessian: only their types
  and shapes are checked) and ``mixedfit_version`` / ``libraries`` (informative).
* **Cost.** Loading a file near the size cap takes memory several times its size (the parsed
  JSON) and one factorization of the model (no optimization).

File format (version 2)
-----------------------
One JSON document (UTF-8; gzip-compressed when the path ends with ``.gz``, detected by content
when loading). No pickle; the formula is the only text ever evaluated (see above). Version 1
(without ``estimates.ranef``) loads only with ``trust=True``. Floats are written with full
precision (Python's shortest round-trip ``repr``), so float64 values come back bit for bit;
non-finite floats are the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` inside float
arrays and ``{"float": "NaN"}`` elsewhere (the document is strict JSON). Top level::

    {"format": "mixedfit-fit", "version": 2,
     "mixedfit_version": "0.1.0",
     "libraries": {"numpy": ..., "pandas": ..., "formulaic": ...},   # informative
     "model": {"class": "LinearMixedModel", "formula": "...", "reml": true,
               "context_names": []},
     "data": {"nrow": n, "columns": [COLUMN, ...],
              "weights": ARRAY | null, "offset": ARRAY, "response": ARRAY | null,
              "rows": ARRAY, "n_dropped": int},
     "estimates": {"theta": ARRAY, "objective": float, "fixed_names": [...],
                   "beta": ARRAY, "sigma": float,
                   "ranef": [{"group": str, "levels": [str, ...], "columns": [str, ...],
                              "b": ARRAY}, ...],      # one per random-effects term
                   "theta_centred": ARRAY},           # only when slope columns cancel
     "optimizer": {field: VALUE, ...},        # engine.optimize.OptimizerRecord
     "convergence": {field: VALUE, ...} | null,  # engine.convergence.ConvergenceCheck
     "gradient": ARRAY | null}                # finite-difference gradient, if it was computed

``ARRAY`` is ``{"dtype": "float64" | "int64" | "bool", "shape": [...], "values": [...]}``
(values flattened in C order). ``VALUE`` is JSON null/bool/int/str, a finite float, a tagged
non-finite float, or ``{"array": ARRAY}``. ``offset`` is the total offset (the ``offset=``
argument plus the formula's ``offset()`` terms); ``response`` is present only for a fit whose
response differs from the frame's (a fit from ``refit(y=...)``). A ``COLUMN`` is
``{"name": str, "kind": ..., ...}`` with kind

* ``"numpy"``: ``dtype`` (``"float64"``, ``"int32"``, ``"bool"``, ...) and ``values``;
* ``"object"``: ``values``, each a string, bool, int or float;
* ``"string"``: pandas' string dtype, with ``storage``, ``na_value`` (``"NaN"`` or ``"NA"``)
  and ``values``;
* ``"masked"``: pandas' nullable ``Int64``/``Float64``/``boolean``... (``dtype``, ``values``);
* ``"categorical"``: ``categories`` (itself a COLUMN), ``ordered`` and integer ``codes``,
  so the level order of a pandas Categorical is kept.

Fits with a residual covariance structure
-----------------------------------------
A :class:`mixedfit.ResidualMixedModel` (``gls`` / ``lmer(..., residual=)``) is saved in the same
format and version with model class ``"ResidualMixedModel"`` and a top-level ``residual`` field:
the structure spec as plain JSON (class from a fixed allow-list, column names, options), φ̂ and
the structure's parameters; its model frame also holds the structure's columns. Loading checks
all of the above and recomputes the criterion at (θ̂, φ̂), β̂, σ̂, b̂, the structure's parameters
and the derivative check: see :mod:`.residual_file`.

Formula context
---------------
Names given to :func:`mixedfit.lmer` through ``context=`` (functions, constants) are Python
objects and are not saved: their names are recorded and :func:`mixedfit.load_fit` must be given them
again (``load_fit(path, context={...}, trust=True)``: a formula that calls them is outside safe
mode); a different definition is caught by the integrity check when it changes the design.

The model frame
---------------
A fitted model does not keep the data it was fitted to, only the arrays built from them. So
:func:`save_fit` takes the model frame from the design when the design carries one (an
attribute ``frame``), and otherwise from ``data=``, the data frame given to
:func:`mixedfit.lmer`. Either way the frame is checked to rebuild exactly the fitted model's
arrays before anything is written.
"""

from __future__ import annotations

import gzip
import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..design import Design, build_design, drop_unused_categories
from ..exceptions import MixedFitError, RankDeficiencyWarning
from ..formula import parse_formula
from ..model import MixedModelFit, ResidualModelFit
from . import fitload
from . import jsoncodec as codec
from .fitcheck import OBJECTIVE_RTOL, design_difference
from .fitfile import MAX_FILE_BYTES
from .residual_file import CLASS as RESIDUAL_CLASS
from .residual_file import ResidualParts, residual_document, restore_residual

if TYPE_CHECKING:
    from ..engine.lmm import EngineFit

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "OBJECTIVE_RTOL",
    "load_fitted",
    "load_parts",
    "save_fit",
]

FORMAT = "mixedfit-fit"
FORMAT_VERSION = 2


_FileError = codec.FileFormatError


# =============================================================================== public API
def save_fit(
    fit: MixedModelFit | ResidualModelFit,
    path: str | os.PathLike[str],
    *,
    data: pd.DataFrame | None = None,
) -> None:
    """Save a fitted model to a JSON file (gzip-compressed if ``path`` ends with ``.gz``).

    Parameters
    ----------
    fit : MixedModelFit or ResidualModelFit
        A fit returned by :func:`mixedfit.lmer` (or its ``refit``), or by :func:`mixedfit.gls`
        / ``lmer(..., residual=)`` (its model frame is kept by the fit: ``data`` is not
        needed; see :mod:`.residual_file`).
    path : str or path-like
        The file to write (replaced atomically if it exists).
    data : pandas.DataFrame, optional
        The data frame the model was fitted to (all its rows, as given to :func:`lmer`).
        Needed unless the fit's design carries its model frame; only the columns the formula
        uses, in the rows the fit used, are stored.

    Raises
    ------
    MixedFitError
        No model frame available (pass ``data``), ``data`` that do not rebuild the fitted
        model, or a data column of a type that cannot be stored (e.g. datetimes).

    Examples
    --------
    >>> import mixedfit as mf, tempfile, os
    >>> df = mf.load_dataset("sleepstudy")
    >>> fit = mf.lmer("Reaction ~ Days + (Days | Subject)", df)
    >>> path = os.path.join(tempfile.mkdtemp(), "fit.json.gz")
    >>> save_fit(fit, path, data=df)
    >>> mf.load_fit(path).theta.tolist() == fit.theta.tolist()
    True
    """
    if isinstance(fit, ResidualModelFit):
        document = residual_document(fit, _header())
    else:
        document = _document(fit, data)
    text = json.dumps(document, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    raw = text.encode("utf-8")
    target = Path(path)
    if target.name.endswith(".gz"):
        raw = gzip.compress(raw, mtime=0)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(raw)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def load_parts(
    path: str | os.PathLike[str],
    context: Mapping[str, Any] | None = None,
    *,
    trust: bool = False,
) -> tuple[Design, EngineFit, str]:
    """The design, engine fit and formula of a fit saved by :func:`save_fit`, rebuilt at its
    estimates without refitting and checked; :func:`mixedfit.load_fit` wraps them in a
    :class:`mixedfit.LinearMixedModel` (see there for the parameters and errors).
    """
    loaded = load_fitted(path, context, trust=trust)
    if isinstance(loaded, ResidualParts):
        raise MixedFitError(
            f"{path} holds a fit with a residual covariance structure: load it with "
            "mixedfit.load_fit"
        )
    return loaded


def load_fitted(
    path: str | os.PathLike[str],
    context: Mapping[str, Any] | None = None,
    *,
    trust: bool = False,
) -> tuple[Design, EngineFit, str] | ResidualParts:
    """What :func:`mixedfit.load_fit` loads: the pieces of an ordinary fit (as
    :func:`load_parts`), or those of a fit with a residual covariance structure
    (:class:`.residual_file.ResidualParts`), rebuilt at its estimates without refitting and
    checked."""
    where = str(path)
    document = fitload.read(Path(path), FORMAT, FORMAT_VERSION, MAX_FILE_BYTES, trust)
    try:
        if document["model"]["class"] == RESIDUAL_CLASS:
            return restore_residual(document, context, trust, where)
        return fitload.restore(document, context, trust, where)
    except MixedFitError:
        raise
    except (_FileError, KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        detail = f"missing entry {err}" if isinstance(err, KeyError) else str(err)
        raise MixedFitError(f"{where} is a corrupt mixedfit fit file: {detail}") from None


# =============================================================================== writing
def _header() -> dict[str, Any]:
    from ..version import __version__

    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "mixedfit_version": __version__,
        "libraries": _library_versions(),
    }


def _document(fit: MixedModelFit, data: pd.DataFrame | None) -> dict[str, Any]:
    design, engine = fit._design, fit._engine
    context = dict(design.spec.context)
    context_names = sorted(k for k, v in context.items() if not (k == "np" and v is np))
    frame = _model_frame(design, data)
    columns = [codec.encode_column(str(name), frame[name]) for name in frame.columns]
    response = _check_frame(fit, frame, context)
    gradient = engine._gradient[0] if engine._gradient else None
    return {
        **_header(),
        "model": {
            "class": "LinearMixedModel",
            "formula": fit.formula,
            "reml": bool(engine.reml),
            "context_names": context_names,
        },
        "data": {
            "nrow": len(frame),
            "columns": columns,
            "weights": None if design.weights is None else codec.array(design.weights),
            "offset": codec.array(design.offset),
            "response": None if response is None else codec.array(response),
            "rows": codec.array(np.asarray(design.rows, dtype=np.int64)),
            "n_dropped": int(design.n_dropped),
        },
        "estimates": {
            **_centred_estimates(engine),
            "theta": codec.array(engine.theta),
            "objective": codec.scalar(engine.objective),
            "fixed_names": list(design.spec.fixed_names),
            "beta": codec.array(engine.solution.beta),
            "sigma": codec.scalar(engine.solution.sigma),
            "ranef": [
                {
                    "group": spec.name,
                    "levels": list(spec.levels),
                    "columns": list(spec.columns),
                    "b": codec.array(b),
                }
                for spec, b in zip(design.spec.terms, engine.solution.b, strict=True)
            ],
        },
        "optimizer": codec.record(engine.record),
        "convergence": None if engine.check is None else codec.record(engine.check),
        "gradient": None if gradient is None else codec.array(gradient),
    }


def _centred_estimates(engine: EngineFit) -> dict[str, Any]:
    """``theta_centred`` for a fit read off centred slope columns (the original columns cancel
    and cannot be factored at θ̂ to verify the file); nothing otherwise."""
    if engine._centred is None:
        return {}
    return {"theta_centred": codec.array(engine._centred.theta)}


def _library_versions() -> dict[str, str]:
    import formulaic

    return {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "formulaic": str(getattr(formulaic, "__version__", "unknown")),
    }


def _model_frame(design: Design, data: pd.DataFrame | None) -> pd.DataFrame:
    """The columns the formula uses, in the rows the fit used (as ``build_design`` sees them)."""
    if data is None:
        source = getattr(design, "frame", None)
        if not isinstance(source, pd.DataFrame):
            raise MixedFitError(
                "this fit does not keep the data it was fitted to: pass them to save it, "
                "save_fit(fit, path, data=df) with the data frame given to lmer"
            )
    else:
        if not isinstance(data, pd.DataFrame):
            raise MixedFitError(f"data must be a pandas DataFrame, not {type(data).__name__}")
        n_total = len(design.rows) + design.n_dropped
        if len(data) != n_total:
            raise MixedFitError(
                f"data has {len(data)} rows but the model was fitted to data with {n_total} "
                "rows; pass the data frame given to lmer"
            )
        source = data.iloc[np.asarray(design.rows)]
    names = design.spec.formula.variables()
    used = [c for c in map(str, source.columns) if c in names]
    return drop_unused_categories(source[used].reset_index(drop=True))


def _check_frame(
    fit: MixedModelFit, frame: pd.DataFrame, context: Mapping[str, Any]
) -> np.ndarray | None:
    """Check that ``frame`` rebuilds the fit's arrays; return the fit's response if it differs
    from the frame's (a fit to a new response), else None."""
    design = fit._design
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RankDeficiencyWarning)
            rebuilt = build_design(
                parse_formula(fit.formula),
                frame,
                weights=design.weights,
                context=context,
                names=design.spec.names,
            )
    except MixedFitError as err:
        raise MixedFitError(
            f"the data do not rebuild the fitted model ({err}); pass the data given to lmer"
        ) from None
    problem = design_difference(design, rebuilt)
    if problem:
        raise MixedFitError(
            f"the data do not rebuild the fitted model: {problem} differ; "
            "pass the data frame the model was fitted to"
        )
    return None if np.array_equal(design.y, rebuilt.y) else np.asarray(design.y, dtype=float)
