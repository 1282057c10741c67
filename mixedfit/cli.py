"""Command line: ``mixedfit fit``, ``mixedfit summary``, ``mixedfit anova`` and ``mixedfit
datasets``.

Exit codes: 0 success (also when the reader of the output goes away: ``mixedfit ... | head``),
1 unexpected failure, 2 bad input (usage, formula, data, file).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .api import anova, lmer
from .exceptions import MixedFitError, MixedFitWarning
from .fitted import LinearMixedModel, load_fit
from .formula.safety import check_safe_formula
from .io.datasets import list_datasets
from .io.table_file import read_table
from .report.html import standalone_page
from .version import __version__

__all__ = ["main"]

_EXAMPLES = """examples:
  mixedfit fit sleepstudy "Reaction ~ Days + (Days | Subject)"
  mixedfit fit sleepstudy "Reaction ~ Days + (Days | Subject)" --ml --output json
  mixedfit fit mydata.csv "y ~ x + (1 | group)" --weights w --output html > fit.html
  mixedfit fit data.txt "y ~ x + (1 | group)" --sep ";" --save fit.json.gz
  mixedfit summary fit.json.gz --ddf kenward-roger
  mixedfit anova sleepstudy "Reaction ~ Days + (1 | Subject)" "Reaction ~ Days + (Days | Subject)"
  mixedfit datasets
"""


def read_data(source: str, sep: str | None = None) -> pd.DataFrame:
    """A bundled data-set name, or a path to a CSV/TSV/text (delimiter ``sep`` or sniffed),
    Excel or Parquet file (see :func:`mixedfit.io.table_file.read_table`)."""
    return read_table(source, sep=sep)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixedfit",
        description="Fit linear mixed-effects models from lme4-style formulas.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mixedfit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    raw = argparse.RawDescriptionHelpFormatter
    fit = sub.add_parser(
        "fit", help="fit a model and print its summary", epilog=_EXAMPLES, formatter_class=raw
    )
    _data_argument(fit)
    fit.add_argument("formula", help='model formula, e.g. "y ~ x + (1 + x | g)"')
    fit.add_argument("--ml", action="store_true", help="maximum likelihood instead of REML")
    fit.add_argument("--weights", metavar="COL", help="column of prior weights")
    _ddf_argument(fit)
    _safe_argument(fit)
    fit.add_argument(
        "--verbose", action="store_true", help="report the optimizer's progress on stderr"
    )
    _output_argument(fit)
    fit.add_argument(
        "--save", metavar="PATH", help="also save the fit (JSON; gzip if PATH ends in .gz)"
    )
    summ = sub.add_parser(
        "summary",
        help="print the summary of a fit saved with 'mixedfit fit ... --save'",
        epilog=_EXAMPLES,
        formatter_class=raw,
    )
    summ.add_argument("path", help="a fit file written by --save (or fit.save in Python)")
    _ddf_argument(summ)
    _output_argument(summ)
    summ.add_argument(
        "--trust",
        action="store_true",
        help="evaluate a formula outside safe mode (only for files you trust)",
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
    comp.add_argument(
        "--output",
        default="text",
        choices=["text", "html"],
        help="table format (default: text; html: a standalone page)",
    )
    sub.add_parser("datasets", help="list the bundled data sets")
    return parser


def _ddf_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ddf",
        default="satterthwaite",
        choices=["satterthwaite", "kenward-roger", "none"],
        help="denominator degrees of freedom of the t-tests (default: satterthwaite)",
    )


def _output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        default="text",
        choices=["text", "json", "html"],
        help="summary format (default: text; html: a standalone page)",
    )


def _safe_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--safe",
        action="store_true",
        help="refuse formulas with anything but columns, numbers, operators and a list of "
        "safe transforms (for untrusted formulas)",
    )


def _data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        help="bundled data-set name (see 'mixedfit datasets'), or a CSV/TSV/text, Excel (.xlsx) "
        "or Parquet file",
    )
    parser.add_argument(
        "--sep",
        metavar="SEP",
        help="delimiter of a text file: a character, or tab/comma/semicolon/pipe/space "
        "(default: sniffed from the file)",
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


def _print_summary(fit: Any, ddf: str, output: str) -> None:
    if output == "json":
        print(json.dumps(fit_json(fit, ddf), indent=2))
    elif output == "html":
        page = fit.summary(ddf=ddf)._repr_html_()
        print(standalone_page(page, f"mixedfit: {fit.formula}"))
    else:
        print(fit.summary(ddf=ddf))


def _run(args: argparse.Namespace) -> int:
    if args.command == "datasets":
        print(list_datasets().to_string(index=False))
        return 0
    if args.command == "summary":
        fit = load_fit(args.path, trust=args.trust)
        _print_summary(fit, args.ddf, args.output)
        return 0
    data = read_data(args.data, sep=args.sep)
    if args.command == "anova":
        if args.safe:  # every formula checked before any is fitted
            for formula in args.formulas:
                check_safe_formula(formula, data.columns)
        fits = [lmer(f, data, reml=not args.ml, safe=args.safe) for f in args.formulas]
        table = anova(*fits, refit=True if args.refit else None)
        if args.output == "html":
            body = table._repr_html_()
            print(standalone_page(f'<div class="mixedfit-anova">{body}</div>', "mixedfit anova"))
        else:
            print(table.to_text())
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
    if args.save:
        fit.save(args.save)
    _print_summary(fit, args.ddf, args.output)
    return 0


def _quiet_closed_pipe() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as a Unix filter does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit must not fail again
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mixedfit`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MixedFitWarning)
            code = _run(args)
            sys.stdout.flush()
    except BrokenPipeError:
        return _quiet_closed_pipe()
    except (MixedFitError, KeyError, FileNotFoundError, OSError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"mixedfit: error: {message}", file=sys.stderr)
        return 2
    for w in caught:
        print(f"mixedfit: warning: {w.message}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
