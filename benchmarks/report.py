"""Tables, target verdicts and the Markdown report of a benchmark run."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from models import Model
from tabulate import tabulate

__all__ = ["ENGINES", "markdown_report", "summary", "text_report", "verdicts"]

ENGINES = ("mixedfit", "lme4", "statsmodels")
Result = dict[str, Any]
Results = dict[str, dict[str, Result]]

METHOD = """\
- **Whole call**: wall time from formula and DataFrame to fitted model, as a user calls it:
  `mf.lmer(formula, df, reml=...)`, lme4's `lmer(formula, data, REML=...)` (defaults, so
  including its derivative-based convergence checks), statsmodels'
  `smf.mixedlm(...)` + `.fit(reml=...)`. Median of the timed runs; warm-up runs (same process,
  same model) are discarded (the 10^6-row model: one long timed fit, no warm-up). Data
  loading and library imports are outside the timed region.
- **Optimization**: mixedfit's `fit.optimizer.seconds` (BOBYQA, boundary check and the
  finite-difference gradient it records); lme4's `optimizeLmer()` call exactly as `lmer` makes
  it (nloptwrap BOBYQA, restart at the edge, boundary check), on a devfun built untimed by
  `lmer(..., devFunOnly = TRUE)`, with `calc.derivs = FALSE` (no Hessian). (statsmodels'
  `.fit()` time alone is in the `--json` output.)
- **Objective**: REML criterion or −2 log-likelihood as lme4's `-2*logLik(fit)`; statsmodels
  `-2*llf`. Δ is mixedfit − lme4.
- **Peak RSS**: each engine runs each model in a fresh process (`py_worker.py` or
  `Rscript lme4_worker.R`); its `ru_maxrss` is read by `os.wait4` when it ends, so it includes
  the interpreter, the libraries and the data as well as the fits.
- **statsmodels**: MixedLM takes one grouping factor; crossed factors (Penicillin) are written
  as variance components within a single group, nested ones (Pastes) as variance components
  within `batch`. Larger crossed designs are n/a (dense per-group matrices) and so are correlated
  slopes on two factors.
- **lme4 time limit**: an lme4 worker whose first fit exceeds the limit is stopped; then the
  ratio is an upper bound (`< x`) and lme4's peak RSS a lower bound (`≥ x`).
- **BLAS**: R's BLAS (see Machine) matters for lme4 on large crossed designs (CHOLMOD's dense
  supernodes); Debian's default is the single-threaded reference BLAS.
- The engines get identical data: bundled data via `mixedfit.load_dataset`, simulated designs
  from fixed numpy seeds; R reads them from a CSV with the pandas level order."""


def _table(rows: list[list[str]], headers: list[str], fmt: str) -> str:
    """A table with the first column left-aligned and the others right-aligned."""
    align = ("left",) + ("right",) * (len(headers) - 1)
    return tabulate(rows, headers, tablefmt=fmt, disable_numparse=True, colalign=align)


def _median(result: Result, key: str) -> float | None:
    if result.get("status") != "ok" or not result.get(key):
        return None
    return float(statistics.median(result[key]))


def _seconds(x: float | None) -> str:
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.4f}"


def _status(result: Result) -> str | None:
    status = result.get("status", "not run")
    if status == "ok":
        return None
    if status == "skipped":
        return f"skipped (> {result.get('limit', 0):g} s)"
    return str(status)


def _time_cell(result: Result, key: str = "whole") -> str:
    status = _status(result)
    if status:
        return status
    mark = "" if result.get("converged", True) else "†"
    return _seconds(_median(result, key)) + mark


def _ratio(res: dict[str, Result], key: str) -> float | None:
    mf, lme4 = _median(res.get("mixedfit", {}), key), _median(res.get("lme4", {}), key)
    if mf is None or lme4 is None or lme4 <= 0:
        return None
    return mf / lme4


def _ratio_cell(ratio: float | None, bound: bool = False) -> str:
    if ratio is None:
        return "—"
    return f"< {ratio:.3f}" if bound else f"{ratio:.3f}"


def _whole_ratio(res: dict[str, Result]) -> tuple[float | None, bool]:
    """mixedfit/lme4 whole-call ratio; an upper bound (True) if lme4 was skipped at its limit."""
    ratio = _ratio(res, "whole")
    lme4, mf = res.get("lme4", {}), _median(res.get("mixedfit", {}), "whole")
    if ratio is None and mf is not None and lme4.get("status") == "skipped":
        return mf / float(lme4["limit"]), True
    return ratio, False


def _rss_mb(result: Result) -> float | None:
    """Peak RSS in MB; for a worker killed at the time limit, the peak until then."""
    kb = result.get("peak_rss_kb")
    return None if kb is None or result.get("status") not in ("ok", "skipped") else kb / 1024


def _rss_cell(result: Result) -> str:
    mb = _rss_mb(result)
    if mb is None:
        return "—"
    return f"≥ {mb:.0f}" if result.get("status") == "skipped" else f"{mb:.0f}"


def _number(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)


def _objective(result: Result) -> float | None:
    return result.get("objective") if result.get("status") == "ok" else None


def _time_rows(models: list[Model], results: Results) -> list[list[str]]:
    rows = []
    for model in models:
        res = results.get(model.name, {})
        ran = [r for r in (res.get(e, {}) for e in ENGINES) if r.get("status") == "ok"]
        first = ran[0] if ran else {}
        verdict = verdicts(model, res)
        rows.append(
            [
                model.name,
                model.method,
                str(first.get("nobs", "—")),
                str(len(first.get("whole", [])) or "—"),
                *(_time_cell(res.get(e, {})) for e in ENGINES),
                _ratio_cell(*_whole_ratio(res)),
                model.target.describe() if model.target else "—",
                verdict or "—",
                *(_time_cell(res.get(e, {}), "opt") for e in ENGINES[:2]),
                _ratio_cell(_ratio(res, "opt")),
            ]
        )
    return rows


TIME_HEADERS = [
    "model",
    "crit.",
    "rows",
    "runs",
    "mixedfit s",
    "lme4 s",
    "statsmodels s",
    "mf/lme4",
    "target",
    "verdict",
    "mf opt s",
    "lme4 opt s",
    "opt mf/lme4",
]


def _objective_rows(models: list[Model], results: Results) -> list[list[str]]:
    rows = []
    for model in models:
        res = results.get(model.name, {})
        objs = [_objective(res.get(e, {})) for e in ENGINES]
        delta = None if objs[0] is None or objs[1] is None else objs[0] - objs[1]
        evals = [res.get(e, {}).get("evals") for e in ENGINES[:2]]
        rows.append(
            [
                model.name,
                *(
                    _number(o, ".4f") if o is not None else _status(res.get(e, {})) or "—"
                    for o, e in zip(objs, ENGINES, strict=True)
                ),
                _number(delta, "+.2e"),
                *(_rss_cell(res.get(e, {})) for e in ENGINES),
                " / ".join("—" if v is None else str(v) for v in evals),
            ]
        )
    return rows


OBJECTIVE_HEADERS = [
    "model",
    "mixedfit objective",
    "lme4 objective",
    "statsmodels objective",
    "Δ mf−lme4",
    "mixedfit MB",
    "lme4 MB",
    "statsmodels MB",
    "evals mf / lme4",
]


def verdicts(model: Model, res: dict[str, Result]) -> str | None:
    """Whether mixedfit met the model's target against lme4.

    Parameters
    ----------
    model : Model
    res : dict
        Engine → result of this model.

    Returns
    -------
    str or None
        ``"met"``, ``"missed (...)"``, ``"undetermined (...)"`` (lme4 skipped at its time
        limit, so only bounds are known), ``"no lme4 time"``, or None if the model has no
        target.
    """
    target = model.target
    if target is None:
        return None
    ratio, bound = _whole_ratio(res)
    if ratio is None:
        return "no lme4 time" if _median(res.get("mixedfit", {}), "whole") else "no time"
    misses = []
    if ratio > target.ratio:
        misses.append("time: lme4 skipped" if bound else f"time {ratio / target.ratio:.1f}× over")
    if target.less_memory:
        # A skipped lme4's peak is a lower bound, so "less than it" still holds for the full run.
        mf, lme4 = _rss_mb(res.get("mixedfit", {})), _rss_mb(res.get("lme4", {}))
        if mf is None or lme4 is None or mf >= lme4:
            misses.append("memory")
    if misses:
        return f"{'undetermined' if bound else 'missed'} ({', '.join(misses)})"
    return "met (lme4 hit the limit)" if bound else "met"


def summary(models: list[Model], results: Results) -> str:
    """One line: how many of the targets mixedfit met, and which it missed.

    Parameters
    ----------
    models : list of Model
    results : dict
        Model name → engine → result.

    Returns
    -------
    str
    """
    judged = [(m.name, verdicts(m, results.get(m.name, {}))) for m in models if m.target]
    if not judged:
        return "No model with a target was run."
    met = [name for name, v in judged if v is not None and v.startswith("met")]
    missed = [f"{name}: {v}" for name, v in judged if name not in met]
    text = f"Targets met: {len(met)} of {len(judged)}."
    return text + (f" Not met: {'; '.join(missed)}." if missed else "")


def _contention(result: Result) -> str | None:
    """A note if the timed fits got much less CPU than wall time (other load on the machine)."""
    wall, cpu = _median(result, "whole"), _median(result, "cpu")
    # R's CPU clock ticks in 10 ms: too coarse for short fits.
    if wall is None or cpu is None or wall < 0.5 or cpu / wall >= CPU_WALL_MIN:
        return None
    return f"CPU/wall time of the fits {cpu / wall:.2f}: it waited for the CPU (other load?)"


CPU_WALL_MIN = 0.7


def _notes(models: list[Model], results: Results) -> list[str]:
    lines = []
    for model in models:
        for engine in ENGINES:
            result = results.get(model.name, {}).get(engine, {})
            contention = _contention(result)
            notes = [*result.get("notes", []), *([contention] if contention else [])]
            for note in notes:
                lines.append(f"{model.name} / {engine}: {note}")
            if result.get("status") == "error":
                lines.append(f"{model.name} / {engine}: error: {result.get('error', '')}")
    return lines


def text_report(models: list[Model], results: Results) -> str:
    """Plain-text tables for the terminal.

    Parameters
    ----------
    models : list of Model
    results : dict
        Model name → engine → result.

    Returns
    -------
    str
    """
    parts = [
        _table(_time_rows(models, results), TIME_HEADERS, "simple"),
        "",
        _table(_objective_rows(models, results), OBJECTIVE_HEADERS, "simple"),
    ]
    parts += ["", summary(models, results)]
    notes = _notes(models, results)
    if notes:
        parts += ["", "Notes (warnings and messages of the fits; † = not converged):", *notes]
    return "\n".join(parts)


def markdown_report(
    models: list[Model],
    results: Results,
    machine: list[tuple[str, str]],
    settings: dict[str, str],
) -> str:
    """The Markdown page ``docs/benchmarks.md``.

    Parameters
    ----------
    models : list of Model
    results : dict
        Model name → engine → result.
    machine : list of (str, str)
        From :func:`machine.describe_machine`.
    settings : dict
        Run settings (command, date, repetitions, lme4 limit) shown above the tables.

    Returns
    -------
    str
    """
    # "|" must be escaped inside a GitHub table cell, even in code.
    formulas = [[m.name, f"`{m.formula}`".replace("|", "\\|"), m.method, m.data] for m in models]
    notes = _notes(models, results)
    lines = [
        "# Benchmarks: mixedfit vs lme4 vs statsmodels",
        "",
        "Generated by `benchmarks/run.py` (see `benchmarks/README.md`); edit that, not this page.",
        "",
        *(f"- {key}: {value}" for key, value in settings.items()),
        "",
        "## Time (median wall seconds) and targets",
        "",
        _table(_time_rows(models, results), TIME_HEADERS, "github"),
        "",
        "† = an engine reported non-convergence. Target: mixedfit/lme4 whole-call time. When lme4"
        " was skipped at its time limit, the ratio is an upper bound (`< x`) and its peak RSS a"
        " lower bound (`≥ x`, the peak until it was stopped).",
        "",
        f"**{summary(models, results)}**",
        "",
        "## Objective and peak memory (RSS of the engine's process, MB)",
        "",
        _table(_objective_rows(models, results), OBJECTIVE_HEADERS, "github"),
        "",
        "## Models",
        "",
        tabulate(
            formulas,
            ["model", "formula", "criterion", "data"],
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
        "## Machine",
        "",
        tabulate(machine, ["", ""], tablefmt="github", disable_numparse=True),
        "",
        "## Method",
        "",
        METHOD,
        "",
    ]
    # hand-written / residual.py's and peers.py's last runs
    for name in ("ANALYSIS.md", "RESIDUAL.md", "PEERS.md", "ISSUE13.md"):
        extra = Path(__file__).with_name(name)
        if extra.exists():
            lines += [extra.read_text().rstrip(), ""]
    if notes:
        lines += ["## Notes from the fits", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(lines)
