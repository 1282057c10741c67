"""Progress of a streamed fit: pass 1, pass 2 and the optimization.

Nothing is printed unless asked: every report goes to the ``mixedfit.scale`` logger (INFO for
the end of a pass and of the fit, DEBUG per chunk and per evaluation; silent under Python's
default logging setup), to an optional callback, and, with ``verbose=True``, as lines on
standard error — at most one a second per pass, plus one at the end of each pass and of the
optimization.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Event", "Reporter", "logger"]

logger = logging.getLogger("mixedfit.scale")

INTERVAL = 1.0  # seconds between lines of one pass (the first and last are always shown)


@dataclass(frozen=True)
class Event:
    """One progress report.

    Attributes
    ----------
    stage : {"pass 1", "pass 2", "fit"}
    count : int
        Chunks (or Dask partitions) read, or evaluations of the criterion.
    rows : int
        Rows read so far (0 for the fit).
    objective : float or None
        The criterion at the last evaluation (the fit only).
    best : float or None
        The lowest criterion so far (the fit only).
    seconds : float
        Since the reporter was made.
    done : bool
        True for the report that ends a stage.
    """

    stage: str
    count: int
    rows: int = 0
    objective: float | None = None
    best: float | None = None
    seconds: float = 0.0
    done: bool = False

    def line(self) -> str:
        """The event as a line of text."""
        end = " (done)" if self.done else ""
        if self.stage == "fit":
            return (
                f"mixedfit: evaluation {self.count:5d}  criterion {self.objective:.6f}  best "
                f"{self.best:.6f}  {self.seconds:.1f} s{end}"
            )
        return (
            f"mixedfit: {self.stage}: {self.count} chunks, {self.rows} rows, "
            f"{self.seconds:.1f} s{end}"
        )


@dataclass
class Reporter:
    """Collects progress and passes it on (see the module docstring).

    Parameters
    ----------
    verbose : bool
        Lines on standard error.
    callback : callable, optional
        Called with every :class:`Event` (each chunk, each evaluation, each stage's end).
    """

    verbose: bool = False
    callback: Callable[[Event], None] | None = None
    start: float = field(default_factory=time.perf_counter)
    _shown: dict[str, float] = field(default_factory=dict)
    _last: Event | None = None

    def chunk(self, stage: str, count: int, rows: int) -> None:
        """A chunk of ``stage`` was read (``count`` chunks, ``rows`` rows so far)."""
        self._emit(Event(stage, count, rows, seconds=self._elapsed()))

    def evaluation(self, count: int, objective: float, best: float) -> None:
        """The optimizer evaluated the criterion (the engine's progress callback)."""
        self._emit(Event("fit", count, 0, objective, best, self._elapsed()))

    def done(self, stage: str) -> None:
        """``stage`` ended (repeats its last counts)."""
        last = self._last if self._last is not None and self._last.stage == stage else None
        count, rows = (last.count, last.rows) if last else (0, 0)
        objective, best = (last.objective, last.best) if last else (None, None)
        event = Event(stage, count, rows, objective, best, self._elapsed(), done=True)
        if stage != "fit" or last is not None:
            self._emit(event)

    def _elapsed(self) -> float:
        return time.perf_counter() - self.start

    def _emit(self, event: Event) -> None:
        self._last = event
        if self.callback is not None:
            self.callback(event)
        level = logging.INFO if event.done else logging.DEBUG
        if logger.isEnabledFor(level):
            logger.log(level, event.line())
        if not self.verbose:
            return
        shown = self._shown.get(event.stage)
        if event.done or shown is None or event.seconds - shown >= INTERVAL:
            self._shown[event.stage] = event.seconds
            print(event.line(), file=sys.stderr, flush=True)
