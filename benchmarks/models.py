"""The benchmark models: formula, data, criterion, statsmodels translation and target.

Every model is fitted by each engine from the same data. ``data`` names either a data set bundled
with mixedfit (loaded by :func:`mixedfit.load_dataset`) or a simulated design from
:mod:`simulate` (prefix ``sim:``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["MODELS", "Model", "StatsmodelsSpec", "Target", "get_model", "select_models"]


@dataclass(frozen=True)
class StatsmodelsSpec:
    """How a model is written for ``statsmodels.formula.api.mixedlm``.

    Attributes
    ----------
    fixed : str
        Fixed-effects formula (patsy), with the response.
    groups : str or None
        Grouping column; None puts all rows in one group, so that crossed factors can be
        expressed as variance components.
    re_formula : str
        Random-effects formula within ``groups`` (``"1"`` intercept, ``"0"`` none).
    vc_formula : dict
        Variance components, name → patsy formula (nested within ``groups``).
    """

    fixed: str
    groups: str | None
    re_formula: str = "1"
    vc_formula: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A performance target of mixedfit relative to lme4.

    Attributes
    ----------
    ratio : float
        Largest acceptable mixedfit/lme4 ratio of the median whole-call time.
    less_memory : bool
        Whether mixedfit's peak RSS must also be below lme4's.
    """

    ratio: float
    less_memory: bool = False

    def describe(self) -> str:
        """Short text of the target, e.g. ``"≤ 1/3"``.

        Returns
        -------
        str
        """
        text = f"≤ 1/{round(1 / self.ratio)}"
        return text + ", less RSS" if self.less_memory else text


@dataclass(frozen=True)
class Model:
    """One benchmark model.

    Attributes
    ----------
    name : str
        Identifier used by ``--only``.
    data : str
        Bundled data-set name, or ``sim:NAME`` for a simulated design.
    formula : str
        lme4 formula, given unchanged to mixedfit and lme4.
    reml : bool
        REML (True) or ML (False).
    heavy : bool
        Heavy models use ``--repeat-heavy`` timed repetitions instead of ``--repeat``.
    statsmodels : StatsmodelsSpec or None
        None when the model cannot be expressed in statsmodels MixedLM.
    target : Target or None
        The mixedfit/lme4 target, if any.
    warmup, repeat : int or None
        Warm-up and timed fits for this model; None means the command-line options. The
        10^6-row model has one timed fit and no warm-up: a fit takes minutes, against which
        first-call costs are negligible.
    """

    name: str
    data: str
    formula: str
    reml: bool
    heavy: bool = False
    statsmodels: StatsmodelsSpec | None = None
    target: Target | None = None
    warmup: int | None = None
    repeat: int | None = None

    @property
    def method(self) -> str:
        """``"REML"`` or ``"ML"``."""
        return "REML" if self.reml else "ML"


_THIRD = Target(1 / 3)

MODELS: tuple[Model, ...] = (
    Model(
        "sleepstudy",
        "sleepstudy",
        "Reaction ~ 1 + Days + (1 + Days|Subject)",
        reml=True,
        statsmodels=StatsmodelsSpec("Reaction ~ 1 + Days", "Subject", "1 + Days"),
        target=_THIRD,
    ),
    Model(
        "penicillin",
        "penicillin",
        "diameter ~ 1 + (1|plate) + (1|sample)",
        reml=True,
        statsmodels=StatsmodelsSpec(
            "diameter ~ 1", None, "0", {"plate": "0 + C(plate)", "sample": "0 + C(sample)"}
        ),
        target=_THIRD,
    ),
    Model(
        "pastes",
        "pastes",
        "strength ~ 1 + (1|batch/cask)",
        reml=True,
        statsmodels=StatsmodelsSpec("strength ~ 1", "batch", "1", {"cask": "0 + C(cask)"}),
        target=_THIRD,
    ),
    Model(
        "orthodont",
        "orthodont",
        "distance ~ age * Sex + (1 + age|Subject)",
        reml=True,
        statsmodels=StatsmodelsSpec("distance ~ age * Sex", "Subject", "1 + age"),
        target=_THIRD,
    ),
    Model(
        "insteval-reml",
        "insteval",
        "y ~ 1 + service + (1|s) + (1|d) + (1|dept)",
        reml=True,
        heavy=True,
        target=Target(1 / 25),
    ),
    Model(
        "insteval-ml",
        "insteval",
        "y ~ 1 + service + (1|s) + (1|d) + (1|dept)",
        reml=False,
        heavy=True,
        target=Target(1 / 25),
    ),
    Model(
        "insteval-dept",
        "insteval",
        "y ~ 1 + service*dept + (1|s) + (1|d)",
        reml=True,
        heavy=True,
    ),
    Model(
        "subjects-items",
        "sim:subjects_items",
        "y ~ 1 + x + (1 + x|subj) + (1 + x|item)",
        reml=True,
    ),
    Model(
        "crossed-1e6",
        "sim:crossed_1e6",
        "y ~ 1 + (1|user) + (1|item)",
        reml=False,
        heavy=True,
        target=Target(1 / 3, less_memory=True),
        warmup=0,
        repeat=1,
    ),
)


def get_model(name: str) -> Model:
    """Look a model up by name.

    Parameters
    ----------
    name : str

    Returns
    -------
    Model

    Raises
    ------
    KeyError
        No model has that name.
    """
    for model in MODELS:
        if model.name == name:
            return model
    raise KeyError(f"unknown model {name!r}; known: {', '.join(m.name for m in MODELS)}")


def select_models(only: Iterable[str] | None) -> list[Model]:
    """The models named by ``--only`` (all if None).

    A name selects the model of that name and every model whose name starts with ``NAME-``
    (``insteval`` selects the three InstEval models).

    Parameters
    ----------
    only : iterable of str or None

    Returns
    -------
    list of Model

    Raises
    ------
    KeyError
        A name matches no model.
    """
    if not only:
        return list(MODELS)
    chosen: list[Model] = []
    for sel in only:
        hits = [m for m in MODELS if m.name == sel or m.name.startswith(sel + "-")]
        if not hits:
            raise KeyError(f"--only {sel!r} matches no model; known: {[m.name for m in MODELS]}")
        chosen.extend(m for m in hits if m not in chosen)
    return [m for m in MODELS if m in chosen]
