"""The compiled refits of a model whose slope columns are centred for the optimizer (issue 15).

:func:`.lmm.fit_factors` optimizes such a model on the centred columns (θ'), checks the
derivatives there and maps θ' to the original columns' θ (:meth:`.Centring.to_original`); its
criterion value is then the original factor's at θ. A fit on the boundary (a diagonal θ below
lme4's 1e-4: Orthodont's slope at a correlation of ±1 in about one bootstrap replicate of five)
is optimized again from lme4's rescaled start mapped to θ' (:func:`.restart.improve`), which
wins if the original factor's criterion is lower by more than :data:`.restart.RESTART_GAIN`.

:class:`SecondStarts` does the same after the compiled loop (:mod:`.jit_refit`, run with no
second start of its own) has optimized θ' and passed the derivative check: θ' → θ by the
same function, and for the refits on the boundary a second compiled batch from the mapped start
and the comparison on the original factor's criterion, as the Python path computes it. So θ̂ is
the Python path's bit for bit; a refit whose second start is not finished by the loop (or that
the Python path would take elsewhere: a θ that cannot be mapped or evaluated) is left to it.
The second optimization gets the whole evaluation budget (the Python path: the budget less the
first's evaluations; ``max_evals`` is 100,000 for the bootstrap, ~50 evaluations a refit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import restart
from .centring import Centring
from .restart import on_boundary, rescaled_start
from .reterm import _PSD_RTOL

__all__ = ["SecondStarts"]

Run = Callable[[np.ndarray, np.ndarray, Any], bool]  # chosen, starts, estimates → loaded
Objective = Callable[[int, np.ndarray], float]  # response, θ → the original factor's criterion


class SecondStarts:
    """θ' → θ and the second starts of the compiled refits of a centred model.

    Parameters
    ----------
    centring : Centring
        Not scaled, not cancelling (:func:`.refit._plain`).
    starts : callable
        Response → its first start θ' (the moment start of the centred factor).
    run : callable
        (responses, starts θ', estimates) → the compiled loop's refits of those responses
        into their rows of the estimates (``RefitEstimates``); False if it failed to load.
    objective : callable
        (response, θ) → the original factor's criterion at θ for that response.
    """

    def __init__(
        self,
        centring: Centring,
        starts: Callable[[int], np.ndarray | None],
        run: Run,
        objective: Objective,
    ) -> None:
        self.centring = centring
        self.starts = starts
        self.run = run
        self.objective = objective
        self.unstepped: dict[int, np.ndarray] = {}  # θ before .newton's step, where it stepped

    def apply(self, out: Any) -> bool:
        """Map the finished refits in ``out`` to θ and settle their second starts in place
        (``done`` False: left to the Python path); False if the loop failed to load."""
        layout = self.centring.layout
        boundary = []
        finished = np.flatnonzero(out.done)
        many = _to_original_many(self.centring, out.theta[finished])
        self.unstepped = {}
        for i, s in enumerate(finished):
            theta = self._mapped(out.theta[s]) if many[1][i] else many[0][i]
            unstepped = self._before(out, int(s), theta)
            if theta is None or unstepped is None:
                out.done[s] = False
                continue
            out.theta[s] = theta
            if on_boundary(unstepped, layout):  # (.lmm: the step follows the second starts)
                boundary.append(int(s))
        if not boundary:
            return True
        rescaled = rescaled_start(layout)
        again = []
        for r in boundary:  # .restart.improve: a start equal to the first one is not tried
            first = self.starts(r)
            tried = None if first is None else self._mapped(first)
            if tried is None:
                out.done[r] = False
            elif not np.allclose(rescaled, tried, rtol=1e-12, atol=0):
                again.append(r)
        if again:
            return self._second(np.array(again), rescaled, out)
        return True

    def _second(self, chosen: np.ndarray, rescaled: np.ndarray, out: Any) -> bool:
        """The second start of the refits ``chosen``, kept where the original factor's
        criterion falls by more than RESTART_GAIN (as .restart.improve decides)."""
        try:
            start = self.centring.to_centred(rescaled)
        except np.linalg.LinAlgError:  # pragma: no cover - the rescaled start is diagonal
            out.done[chosen] = False
            return True
        if not np.all(np.isfinite(start)):  # pragma: no cover - (the Python path: moments)
            out.done[chosen] = False
            return True
        first = (out.theta[chosen].copy(), out.sigma[chosen].copy(), out.beta[chosen].copy())
        if not self.run(chosen, np.tile(start, (len(chosen), 1)), out):
            return False
        for i, s in enumerate(chosen):
            keep = (first[0][i], first[1][i], first[2][i])
            f1 = self.objective(int(s), self.unstepped.get(int(s), keep[0]))
            trial = self._mapped(out.theta[s]) if out.done[s] else None
            # the records compared are the optimizations' (the winner's step follows)
            unstepped = self._before(out, int(s), trial) if trial is not None else None
            f2 = np.nan if unstepped is None else self.objective(int(s), unstepped)
            if not (np.isfinite(f1) and np.isfinite(f2)):
                out.done[s] = False  # the Python path would optimize the original columns
            elif f2 < f1 - restart.RESTART_GAIN:
                out.theta[s] = trial  # (its derivative check passed in the loop)
            else:
                out.theta[s], out.sigma[s], out.beta[s] = keep
        return True

    def _before(self, out: Any, s: int, theta: np.ndarray | None) -> np.ndarray | None:
        """θ of refit ``s`` before the loop's Newton step (``theta``, its mapped θ̂, where it
        took none); kept in ``unstepped`` where it took one."""
        if np.array_equal(out.before[s], out.theta[s]):
            return theta
        unstepped = self._mapped(out.before[s])
        if unstepped is not None:
            self.unstepped[int(s)] = unstepped
        return unstepped

    def _mapped(self, theta_centred: np.ndarray) -> np.ndarray | None:
        """:meth:`.Centring.to_original`, or None where the Python path gets no θ."""
        try:
            theta = self.centring.to_original(theta_centred)
        except np.linalg.LinAlgError:  # pragma: no cover - θ' is finite: S is PSD
            return None
        return theta if np.all(np.isfinite(theta)) else None


def _to_original_many(centring: Centring, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`.Centring.to_original` of each row of ``thetas`` where its centred terms have two
    columns: the same operations on stacked arrays (the products in the same order, and
    :func:`.reterm.psd_cholesky`'s steps, whose dot products have at most one term for k = 2);
    (θ rows, and per row True where it is left to the one-row map: a vanishing pivot, a value
    that is not finite, or a centred term with more columns)."""
    out, alone = np.array(thetas, dtype=float), np.zeros(len(thetas), dtype=bool)
    layout = centring.layout
    for term, off, M in zip(layout.terms, layout.offsets, centring.M, strict=True):
        if M is None:
            continue
        if term.k != 2:
            return out, np.ones(len(thetas), dtype=bool)
        rows, cols = term.theta_index
        part = slice(off, off + len(rows))
        T = np.zeros((len(thetas), 2, 2))
        T[:, rows, cols] = thetas[:, part]
        d = 1.0 / np.diag(M)
        A = d[:, None] * M
        S = A @ T @ T.transpose(0, 2, 1) @ A.T
        S = (S + S.transpose(0, 2, 1)) / 2
        s00, s10, s11 = S[:, 0, 0], S[:, 1, 0], S[:, 1, 1]
        with np.errstate(all="ignore"):
            tol = _PSD_RTOL * np.maximum(np.maximum(np.abs(s00), np.abs(s11)), 1e-300)
            l00 = np.sqrt(s00)
            l10 = s10 / l00
            d1 = s11 - l10 * l10
            l11 = np.where(d1 <= tol, 0.0, np.sqrt(d1))
        alone |= ~(s00 > tol) | ~np.isfinite(s00) | ~np.isfinite(d1) | (d1 < -tol)
        L = np.zeros_like(T)
        L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = l00, l10, l11
        L = L / d[:, None]
        out[:, part] = L[:, rows, cols]
    return out, alone
