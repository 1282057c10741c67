"""Command line: ``mixedfit fit DATA FORMULA [--ml]`` and ``mixedfit datasets``."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .api import lmer
from .datasets import list_datasets, load_dataset
from .exceptions import MixedFitError, MixedFitWarning

__all__ = ["main"]

_EXAMPLES = """examples:
  mixedfit fit sleepstudy "Reaction ~ Days + (Days | Subject)"
  mixedfit fit sleepstudy "Reaction ~ Days + (Days | Subject)" --ml
  mixedfit fit mydata.csv "y ~ x + (1 | group)"
  mixedfit datasets
"""


def read_data(source: str) -> pd.DataFrame:
    """A bundled data-set name, or a path to a CSV or Parquet file."""
    path = Path(source)
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    if path.suffix.lower() in {".csv", ".gz", ".txt", ".tsv"} or path.exists():
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        return pd.read_csv(path, sep=sep)
    return load_dataset(source)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixedfit",
        description="Fit linear mixed-effects models from lme4-style formulas.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser(
        "fit",
        help="fit a model and print its summary",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument(
        "data", help="bundled data-set name (see 'mixedfit datasets') or a CSV/Parquet file"
    )
    fit.add_argument("formula", help='model formula, e.g. "y ~ x + (1 + x | g)"')
    fit.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML")
    fit.add_argument("--weights", metavar="COL", help="column of prior weights")
    fit.add_argument(
        "--ddf",
        default="satterthwaite",
        choices=["satterthwaite", "kenward-roger", "none"],
        help="denominator degrees of freedom of the t-tests (default: satterthwaite)",
    )
    sub.add_parser("datasets", help="list the bundled data sets")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mixedfit`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "datasets":
        print(list_datasets().to_string(index=False))
        return 0
    try:
        data = read_data(args.data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MixedFitWarning)
            fit = lmer(args.formula, data, reml=not args.ml, weights=args.weights)
    except (MixedFitError, KeyError, FileNotFoundError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"mixedfit: error: {message}", file=sys.stderr)
        return 2
    print(fit.summary(ddf=args.ddf))
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
