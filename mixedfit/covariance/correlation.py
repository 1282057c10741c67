"""Correlation structures (specs) within subjects: C of Λ = D C D (nlme's corStruct, SAS TYPE=).

Each structure reads its time or coordinate columns and checks that the data can carry it
(:mod:`.binding`). ``heterogeneous=True`` is the homogeneous structure & ``VarIdent(time)`` (CSH,
ARH(1), TOEPH, ANTE(1)); ``by=`` gives a separate parameter set per level and a variance ratio
per level (SAS GROUP=). Variance functions (:mod:`.variance`) multiply the rows' sds
(:meth:`CorrelationStructure.bind_with`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..engine.residual.by import ByCorrelation
from ..engine.residual.correlation import (
    AntePart,
    AR1Part,
    ARMAPart,
    CAR1Part,
    CorrelationPart,
    CSPart,
    ToeplitzPart,
)
from ..engine.residual.spatial import SpatialPart
from ..engine.residual.structure import ResidualModel
from ..engine.residual.unstructured import UnstructuredPart
from ..engine.residual.variance import IdentPart, ProductVariance, VariancePart
from ..exceptions import DataError
from .base import ResidualStructure
from .binding import (
    BoundResidual,
    Coded,
    check_unique_times,
    code_column,
    numeric_column,
    pair_coverage,
    require_pairs,
    warn_unused_time_levels,
)
from .identify import (
    check_arma_lags,
    check_by_levels,
    check_lags,
    check_level_support,
    check_spans,
    levels,
    positions,
)
from .reference import Groups, at_first_row, first_row, order_key
from .variance import _reference

__all__ = [
    "AR1",
    "ARMA",
    "CAR1",
    "AnteDependence",
    "CompoundSymmetry",
    "CorrelationStructure",
    "Spatial",
    "Toeplitz",
    "Unstructured",
]


@dataclass(frozen=True)
class _Parts:
    correlation: CorrelationPart
    variance: VariancePart | None = None
    time_labels: list[str] = field(default_factory=list)
    time_level: np.ndarray | None = None


class CorrelationStructure(ResidualStructure):
    """A correlation structure within subjects (optionally heterogeneous, grouped by ``by``)."""

    is_correlation = True
    subject: str | None
    by: str | None = None

    #: parameters indexed by time level (UN, ANTE, CS): a level without rows has none
    _indexed = False

    def _level_positions(self) -> str | None:
        """The time column whose categorical level order gives the time positions (a level
        unused by every subject is a gap, warned about when binding)."""
        return None

    @property
    def label(self) -> str:
        return type(self).__name__

    @abstractmethod
    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        """Engine parts for all rows (one parameter set)."""

    def _subject(self, frame: pd.DataFrame) -> Coded | None:
        return None if self.subject is None else code_column(frame, self.subject, "subject")

    def bind_with(
        self, frame: pd.DataFrame, variances: Sequence[ResidualStructure], groups: Groups = ()
    ) -> BoundResidual:
        """Bind, multiplying the rows' sds by ``variances`` (``groups``: as :meth:`bind`)."""
        subj = self._subject(frame)
        time = self._level_positions()
        if time is not None and self.label not in ("Unstructured", "AnteDependence"):
            warn_unused_time_levels(frame, time, self.label, self._indexed)  # UN/ANTE refuse
        codes = np.zeros(len(frame), np.intp) if subj is None else subj.codes
        labels = ["all"] if subj is None else subj.labels
        parts = self._parts(frame, codes, labels)
        corr, var = parts.correlation, parts.variance
        if self.by is not None:
            corr, var = self._grouped(frame, codes, labels, parts)
        corr, var = at_first_row(corr, var, first_row([*groups, codes]))  # nlme's reference
        vparts = [v.variance_part(frame, order_key([*groups, codes])) for v in variances]
        if var is not None:
            vparts.insert(0, var)
        variance = (
            None if not vparts else vparts[0] if len(vparts) == 1 else ProductVariance(vparts)
        )
        model = ResidualModel(len(frame), None if subj is None else codes, corr, variance)
        return BoundResidual(
            model,
            None if subj is None else codes,
            self.subject,
            labels,
            parts.time_labels,
            parts.time_level,
        )

    def bind(self, frame: pd.DataFrame, groups: Groups = ()) -> BoundResidual:
        return self.bind_with(frame, (), groups)

    def _grouped(
        self, frame: pd.DataFrame, codes: np.ndarray, labels: list[str], parts: _Parts
    ) -> tuple[CorrelationPart, VariancePart]:
        assert self.by is not None
        g = code_column(frame, self.by, "by")
        order = np.argsort(codes, kind="stable")
        s, gg = codes[order], g.codes[order]
        bad = np.flatnonzero((s[1:] == s[:-1]) & (gg[1:] != gg[:-1]))
        if len(bad):
            raise DataError(
                f"the by column {self.by!r} of {self.label} varies within subject "
                f"{labels[s[bad[0]]]!r} of {self.subject!r}: it must be constant per subject"
            )
        for level, name in enumerate(g.labels):  # each level's parameters need its own data
            rows = g.codes == level
            try:
                self._parts(frame[rows], codes[rows], labels)
            except DataError as err:
                where = f"in the level {name!r} of the by column {self.by!r}"
                raise DataError(f"{where}: {err}") from None
        lv = parts.time_level
        if isinstance(parts.correlation, (AntePart, UnstructuredPart)) and lv is not None:
            tl, t = parts.time_labels, self._level_positions() or ""
            check_by_levels(self.label, t, self.by, lv, tl, g.codes, g.labels)
        corr = ByCorrelation(
            [self._parts(frame, codes, labels).correlation for _ in g.labels], g.codes, g.labels
        )
        if isinstance(parts.variance, IdentPart):  # heterogeneous: a variance per (by, time) cell
            nt = len(parts.variance.labels)
            cell = g.codes * nt + parts.variance.stratum
            uniq, inv = np.unique(cell, return_inverse=True)
            cl = [f"{g.labels[u // nt]}:{parts.variance.labels[u % nt]}" for u in uniq]
            within = f"{self.by}:{parts.variance.qualifier}"
            ref = _reference(inv, codes)
            return corr, IdentPart(inv, cl, ref, qualifier=within, origin="time")
        return corr, IdentPart(
            g.codes, g.labels, _reference(g.codes, codes), qualifier=self.by, origin="by"
        )


def _need_subject(s: CorrelationStructure) -> str:
    if s.subject is None:
        raise DataError(f"{s.label} needs a subject column")
    return s.subject


def _time_strata(frame: pd.DataFrame, time: str, subject: np.ndarray) -> IdentPart:
    """VarIdent over the time levels present (the reference: nlme's, set by at_first_row)."""
    c = code_column(frame, time, "time")
    return IdentPart(c.codes, c.labels, 0, qualifier=time, origin="time")


def _positions(
    s: CorrelationStructure, frame: pd.DataFrame, time: str, subject: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, list[str]]:
    return positions(s.label, frame, time, subject, labels, _need_subject(s))


def _levels(
    s: CorrelationStructure, frame: pd.DataFrame, time: str, subject: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, list[str]]:
    return levels(s.label, frame, time, subject, labels, _need_subject(s))


@dataclass(frozen=True)
class AR1(CorrelationStructure):
    """ρ^|i−j| over time positions, gaps kept (SAS AR(1); ARH(1) when heterogeneous)."""

    time: str
    subject: str
    heterogeneous: bool = False
    by: str | None = None

    def _level_positions(self) -> str | None:
        return self.time

    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        pos, tl = _positions(self, frame, self.time, subject, labels)
        var = _time_strata(frame, self.time, subject) if self.heterogeneous else None
        return _Parts(AR1Part(pos), var, tl, pos)


@dataclass(frozen=True)
class CAR1(CorrelationStructure):
    """φ^|tᵢ−tⱼ| over continuous time (nlme corCAR1; SAS SP(POW))."""

    time: str
    subject: str
    by: str | None = None

    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        t = numeric_column(frame, self.time, "time")
        check_unique_times(subject, t, self.time, self.subject, labels)
        require_pairs(subject, self.label, self.subject)
        order = np.lexsort((t, subject))
        same = subject[order][1:] == subject[order][:-1]
        gaps = np.diff(t[order])[same]
        return _Parts(CAR1Part(t, float(np.median(gaps[gaps > 0]))))


@dataclass(frozen=True)
class ARMA(CorrelationStructure):
    """ARMA(p, q) over integer time positions (nlme corARMA; SAS ARMA(1,1))."""

    time: str
    subject: str
    p: int = 1
    q: int = 0
    by: str | None = None

    def _level_positions(self) -> str | None:
        return self.time

    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        if self.p < 0 or self.q < 0 or self.p + self.q == 0:
            raise DataError(f"ARMA needs p ≥ 0, q ≥ 0 and p + q ≥ 1, not p={self.p}, q={self.q}")
        pos, tl = _positions(self, frame, self.time, subject, labels)
        check_arma_lags(self.time, subject, pos, self.p, self.q)
        return _Parts(ARMAPart(pos, self.p, self.q), None, tl, pos)


@dataclass(frozen=True)
class CompoundSymmetry(CorrelationStructure):
    """One correlation between any two rows of a subject (SAS CS; CSH when heterogeneous, which
    needs ``time``)."""

    subject: str
    time: str | None = None
    heterogeneous: bool = False
    by: str | None = None

    _indexed = True

    def _level_positions(self) -> str | None:
        return self.time

    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        require_pairs(subject, self.label, self.subject)
        var, tl, lv = None, [], None
        if self.time is not None:
            c = code_column(frame, self.time, "time")
            values = frame[self.time].to_numpy()
            check_unique_times(subject, c.codes, self.time, self.subject, labels, values)
            tl, lv = c.labels, c.codes
            if self.heterogeneous:
                var = _time_strata(frame, self.time, subject)
        elif self.heterogeneous:
            raise DataError("CompoundSymmetry(heterogeneous=True) needs the time column (time=)")
        return _Parts(CSPart(int(np.bincount(subject).max())), var, tl, lv)


@dataclass(frozen=True)
class Toeplitz(CorrelationStructure):
    """A correlation per lag |i−j| of time positions (SAS TOEP; TOEPH when heterogeneous)."""

    time: str
    subject: str
    heterogeneous: bool = False
    by: str | None = None

    def _level_positions(self) -> str | None:
        return self.time

    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        pos, tl = _positions(self, frame, self.time, subject, labels)
        m = int(pos.max()) + 1
        check_lags(frame[self.time], subject, pos, m)
        var = None
        if self.heterogeneous:
            check_level_support(
                "Toeplitz", self.time, subject, pos, tl, labels, self.subject, toeplitz=True
            )
            var = _time_strata(frame, self.time, subject)
        return _Parts(ToeplitzPart(pos, m), var, tl, pos)


@dataclass(frozen=True)
class AnteDependence(CorrelationStructure):
    """First-order ante-dependence: correlation between levels a < b is Π ρ_k over the
    consecutive levels between them (SAS ANTE(1) when heterogeneous, mmrm adh / ad)."""

    time: str
    subject: str
    heterogeneous: bool = True
    by: str | None = None

    _indexed = True

    def _level_positions(self) -> str | None:
        return self.time

    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        lv, tl = _levels(self, frame, self.time, subject, labels)
        m = len(tl)
        check_spans(self.time, subject, lv, tl)
        if self.heterogeneous:
            check_level_support(self.label, self.time, subject, lv, tl, labels, self.subject)
        var = None
        if self.heterogeneous:
            var = IdentPart(lv, tl, 0, qualifier=self.time, origin="time")
        return _Parts(AntePart(lv, m), var, tl, lv)


@dataclass(frozen=True)
class Unstructured(CorrelationStructure):
    """Every variance and covariance between time levels free (SAS UN, mmrm us)."""

    time: str
    subject: str
    by: str | None = None

    _indexed = True

    def _level_positions(self) -> str | None:
        return self.time

    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        lv, tl = _levels(self, frame, self.time, subject, labels)
        cover = pair_coverage(subject, lv, len(tl))
        a, b = np.nonzero(~cover)
        if len(a):
            raise DataError(
                f"Unstructured needs each pair of levels of {self.time!r} in some subject, but no "
                f"subject has both {tl[a[0]]!r} and {tl[b[0]]!r}: the data have too few visits"
            )
        check_level_support(self.label, self.time, subject, lv, tl, labels, self.subject)
        return _Parts(UnstructuredPart(lv, len(tl), tl, qualifier=self.time), None, tl, lv)


@dataclass(frozen=True)
class Spatial(CorrelationStructure):
    """Isotropic spatial correlation of the distance between 1–2 coordinate columns (nlme corExp,
    corGaus, corSpher; SAS SP(EXP|GAU|SPH)); within subjects, or over all rows without one."""

    coords: str | tuple[str, ...]
    subject: str | None = None
    kind: str = "exponential"
    nugget: bool = False
    by: str | None = None

    def _parts(self, frame: pd.DataFrame, subject: np.ndarray, labels: list[str]) -> _Parts:
        cols = (self.coords,) if isinstance(self.coords, str) else tuple(self.coords)
        if not 1 <= len(cols) <= 2:
            raise DataError(f"Spatial takes one or two coordinate columns, not {len(cols)}")
        xy = np.column_stack([numeric_column(frame, c, "coordinate") for c in cols])
        if subject.max(initial=0) == 0 and len(frame) < 2:
            raise DataError("Spatial needs at least two rows")
        d = _typical_distance(xy, subject)
        blocks = len(np.unique(subject))
        return _Parts(SpatialPart(xy, self.kind, self.nugget, d, blocks))


def _typical_distance(xy: np.ndarray, subject: np.ndarray) -> float:
    rng = np.random.default_rng(0)
    i = rng.integers(0, len(xy), 2000)
    j = rng.integers(0, len(xy), 2000)
    keep = (subject[i] == subject[j]) & (i != j)
    d = np.sqrt(((xy[i[keep]] - xy[j[keep]]) ** 2).sum(axis=1))
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 1.0
