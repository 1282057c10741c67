"""Command line: ``mixedfit fit``, ``mixedfit anova`` and ``mixedfit datasets``.

Exit codes: 0 success, 1 unexpected failure, 2 bad input (usage, formula, data, file).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .api import anova, lmer
from .exceptions import MixedFitError, MixedFitWarning
from .fitted import LinearMixedModel
from .formula.safety import check_safe_formula
from .io.datasets import list_datasets, load_dataset

__all__ = ["main"]

_EXAMPLES = """examples:
  mixedfit fit sleepstudy "Reaction ~ Days + (Days | Subject)"
  mixedfit fit sleepstudy "Reaction ~ Days + (Days | Subject)" --ml --output json
  mixedfit fit mydata.csv "y ~ x + (1 | group)" --weights w --output html > fit.html
  mixedfit anova sleepstudy "Reaction ~ Days + (1 | Subject)" "Reaction ~ Days + (Days | Subject)"
  mixedfit datasets
"""


def read_data(source: str) -> pd.DataFrame:
    """A bundled data-set name, or a path to a CSV, TSV or Parquet file."""
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    if suffix in {".csv", ".gz", ".txt", ".tsv"} or path.exists():
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    return load_dataset(source)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixedfit",
        description="Fit linear mixed-effects models from lme4-style formulas.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    raw = argparse.RawDescriptionHelpFormatter
    fit = sub.add_parser(
        "fit", help="fit a model and print its summary", epilog=_EXAMPLES, formatter_class=raw
    )
    _data_argument(fit)
    fit.add_argument("formula", help='model formula, e.g. "y ~ x + (1 + x | g)"')
    fit.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML")
    fit.add_argument("--weights", metavar="COL", help="column of prior weights")
    fit.add_argument(
        "--ddf",
        default="satterthwaite",
        choices=["satterthwaite", "kenward-roger", "none"],
        help="denominator degrees of freedom of the t-tests (default: satterthwaite)",
    )
    _safe_argument(fit)
    fit.add_argument(
        "--verbose", action="store_true", help="report the optimizer's progress on stderr"
    )
    fit.add_argument(
        "--output",
        default="text",
        choices=["text", "json", "html"],
        help="summary format (default: text)",
    )
    fit.add_argument(
        "--names",
        default="r",
        choices=["r", "formulaic"],
        help="coefficient names: R's, (Intercept) and SexFemale (default), or formulaic's",
    )
    comp = sub.add_parser(
        "anova",
        help="likelihood-ratio tests of nested models",
        epilog=_EXAMPLES,
        formatter_class=raw,
    )
    _data_argument(comp)
    comp.add_argument(
        "formulas", nargs="+", metavar="FORMULA", help="two or more nested model formulas"
    )
    comp.add_argument("--ml", action="store_true", help="fit by maximum likelihood")
    comp.add_argument(
        "--refit", action="store_true", help="always refit REML fits by ML (lme4's default)"
    )
    _safe_argument(comp)
    sub.add_parser("datasets", help="list the bundled data sets")
    return parser


def _safe_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--safe",
        action="store_true",
        help="refuse formulas with anything but columns, numbers, operators and a list of "
        "safe transforms (for untrusted formulas)",
    )


def _data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data", help="bundled data-set name (see 'mixedfit datasets') or a CSV/TSV/Parquet file"
    )


def fit_json(fit: LinearMixedModel, ddf: str) -> dict[str, Any]:
    """The main results of a fit as plain JSON-ready values (NaN and inf become None)."""
    coef = fit.coef_table(ddf=ddf)
    doc = {
        "formula": fit.formula,
        "method": "REML" if fit.reml else "ML",
        "ddf": ddf,
        "nobs": fit.nobs,
        "ngroups": fit.ngroups,
        "objective": fit.objective,
        "loglik": fit.loglik,
        "aic": fit.aic,
        "bic": fit.bic,
        "theta": fit.theta.tolist(),
        "theta_names": fit.theta_names,
        "sigma": fit.sigma,
        "fixed_effects": coef.reset_index().to_dict(orient="records"),
        "varcorr": fit.varcorr.to_dict(orient="records"),
        "singular": fit.singular,
        "converged": fit.converged,
    }
    return _clean(doc)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _run(args: argparse.Namespace) -> int:
    if args.command == "datasets":
        print(list_datasets().to_string(index=False))
        return 0
    data = read_data(args.data)
    if args.command == "anova":
        if args.safe:  # every formula checked before any is fitted
            for formula in args.formulas:
                check_safe_formula(formula, data.columns)
        fits = [lmer(f, data, reml=not args.ml, safe=args.safe) for f in args.formulas]
        print(anova(*fits, refit=True if args.refit else None).to_string())
        return 0
    fit = lmer(
        args.formula,
        data,
        reml=not args.ml,
        weights=args.weights,
        safe=args.safe,
        verbose=args.verbose,
        names=args.names,
    )
    if args.output == "json":
        print(json.dumps(fit_json(fit, args.ddf), indent=2))
    elif args.output == "html":
        print(fit.summary(ddf=args.ddf)._repr_html_())
    else:
        print(fit.summary(ddf=args.ddf))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mixedfit`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MixedFitWarning)
            code = _run(args)
    except (MixedFitError, KeyError, FileNotFoundError, OSError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"mixedfit: error: {message}", file=sys.stderr)
        return 2
    for w in caught:
        print(f"mixedfit: warning: {w.message}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
