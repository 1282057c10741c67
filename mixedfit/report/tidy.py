"""broom.mixed-style frames of a fit: :func:`tidy` (one row per parameter), :func:`glance` (one
row per model), :func:`augment` (one row per observation), and :func:`ranef_frame` (the random
effects long, as R's ``as.data.frame(ranef(fit, condVar = TRUE))``).

Column names are broom.mixed's (``std.error``, ``p.value``, ``conf.low``, ``logLik``,
``REMLcrit``, ``.fitted``), so code and plots written against broom.mixed read them unchanged.
The values are those of the fit's own methods (``coef_table``, ``varcorr``, ``ranef``,
``ranef_condsd``, ``residual.params``); this module only lays them out.

A residual covariance structure (:func:`mixedfit.gls`, ``lmer(..., residual=)``) adds its
parameters to ``ran_pars`` after σ (``sd__Observation``), group ``Residual``, each named by its
label in ``fit.residual.params`` (nlme's names) after a prefix that says which part it belongs to,
in nlme's split of a structure: ``cor__`` for the correlation structure (``cor__Phi`` of AR(1) or
CAR(1), ``cor__Rho`` of CS, ``cor__Rho1`` of Toeplitz, ``cor__cor(2,1)`` of UN, ``cor__Phi1`` /
``cor__Theta1`` of ARMA, ``cor__range`` of a spatial structure), ``varfun__`` for the variance
function (``varfun__Female``: a standard-deviation ratio of VarIdent or of a heterogeneous
structure; ``varfun__power``, ``varfun__expon``; UN's sd ratios by time level, ``varfun__V2``,
which nlme holds in its varIdent). The values are on nlme's scale whatever ``scales`` (they are
not variances).
broom.mixed has no rows for them (its ``tidy.lme`` drops the correlation structure and puts
varIdent under ``effect = "var_model"``); glmmTMB's structured terms are random effects and
come as ``sd__`` / ``cor__`` rows of their group, as mixedfit's structured terms do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..design.dataframes import as_pandas
from ..exceptions import DataError, MixedFitError
from .text import check_ddf

__all__ = ["EFFECTS", "TidyMethods", "augment", "glance", "ranef_frame", "tidy"]

EFFECTS = ("fixed", "ran_pars", "ran_vals")
_ORDER = [
    "effect", "group", "level", "term", "estimate", "std.error", "statistic", "df", "p.value",
    "conf.low", "conf.high",
]  # fmt: skip
_LONG = {"grpvar": object, "term": object, "grp": object, "condval": float, "condsd": float}


def tidy(
    fit: Any,
    effects: str | Sequence[str] = ("fixed", "ran_pars"),
    conf_int: bool = False,
    conf_level: float = 0.95,
    ddf: str = "satterthwaite",
    scales: str = "sdcor",
) -> pd.DataFrame:
    """One row per parameter, as broom.mixed's ``tidy(fit, effects=, conf.int=)`` (see
    :meth:`mixedfit.LinearMixedModel.tidy` for the columns)."""
    chosen = [effects] if isinstance(effects, str) else list(effects)
    bad = [e for e in chosen if e not in EFFECTS]
    if bad or not chosen:
        raise MixedFitError(f"effects must be among {list(EFFECTS)}, not {bad or effects!r}")
    if scales not in ("sdcor", "vcov"):
        raise MixedFitError(f"scales must be 'sdcor' or 'vcov', not {scales!r}")
    parts = []
    for effect in EFFECTS:  # broom.mixed's order: fixed, then ran_pars, then ran_vals
        if effect not in chosen:
            continue
        if effect == "fixed":
            parts.append(_fixed(fit, conf_int, conf_level, ddf))
        elif effect == "ran_pars":
            parts.append(_ran_pars(fit, conf_int, scales))
        else:
            parts.append(_ran_vals(fit, conf_int, conf_level))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if len(parts) > 1 and "group" not in out:
        out.insert(1, "group", None)
    return out[[c for c in _ORDER if c in out.columns]].reset_index(drop=True)


def _fixed(fit: Any, conf_int: bool, level: float, ddf: str) -> pd.DataFrame:
    table = fit.coef_table(ddf=ddf, level=level)
    out = pd.DataFrame(
        {
            "effect": "fixed",
            "term": [str(t) for t in table.index],
            "estimate": table["estimate"].to_numpy(),
            "std.error": table["std_error"].to_numpy(),
            "statistic": table["t"].to_numpy() if "t" in table else table["z"].to_numpy(),
        }
    )
    if "df" in table and ddf != "none":
        out["df"] = table["df"].to_numpy()
    if "p" in table:
        out["p.value"] = table["p"].to_numpy()
    if conf_int:
        out["conf.low"] = table["lower"].to_numpy()
        out["conf.high"] = table["upper"].to_numpy()
    return out


def _ran_pars(fit: Any, conf_int: bool, scales: str) -> pd.DataFrame:
    varcorr = fit.varcorr
    rows: list[dict[str, Any]] = []
    sd_or_var = "sd" if scales == "sdcor" else "var"
    cor_or_cov = "cor" if scales == "sdcor" else "cov"
    value = "sdcor" if scales == "sdcor" else "vcov"
    for group in dict.fromkeys(varcorr["grp"]):
        if group == "Residual":
            continue
        block = varcorr[varcorr["grp"] == group]
        pairs = {(r.var1, r.var2): r for r in block.itertuples()}
        columns = [r.var1 for r in block.itertuples() if r.var2 == ""]
        for a, col in enumerate(columns):
            estimate = getattr(pairs[(col, "")], value)
            rows.append(dict(group=group, term=f"{sd_or_var}__{col}", estimate=estimate))
            for other in columns[a + 1 :]:
                if (col, other) in pairs:
                    estimate = getattr(pairs[(col, other)], value)
                    rows.append(
                        dict(group=group, term=f"{cor_or_cov}__{col}.{other}", estimate=estimate)
                    )
    residual = float(fit.sigma) if scales == "sdcor" else float(fit.sigma) ** 2
    rows.append(dict(group="Residual", term=f"{sd_or_var}__Observation", estimate=residual))
    rows += [dict(group="Residual", term=t, estimate=v) for t, v in structure_terms(fit)]
    out = pd.DataFrame(rows, columns=["group", "term", "estimate"])
    out.insert(0, "effect", "ran_pars")
    out["estimate"] = out["estimate"].astype(float)
    if conf_int:  # Wald intervals are not defined for variance parameters (broom.mixed: NA)
        out["conf.low"] = np.nan
        out["conf.high"] = np.nan
    return out


def structure_terms(fit: Any) -> list[tuple[str, float]]:
    """The residual structure's parameters as ``(term, estimate)``: ``cor__`` + label for the
    correlation structure's, ``varfun__`` + label for the variance function's (UN's sd ratios
    included); empty for a fit without a residual structure (see the module docstring)."""
    from ..model import ResidualModelFit

    if not isinstance(fit, ResidualModelFit):
        return []
    engine = fit._engine
    params = engine.residual_params()  # NaN: a vanished by= group's φ (not identified)
    return [
        (("cor__" if is_cor else "varfun__") + name, params[name])
        for name, _, is_cor in engine.model.labelled(engine.phi)
    ]


def _ran_vals(fit: Any, conf_int: bool, level: float) -> pd.DataFrame:
    long = ranef_frame(fit)
    out = pd.DataFrame(
        {
            "effect": "ran_vals",
            "group": long["grpvar"],
            "level": long["grp"],
            "term": long["term"],
            "estimate": long["condval"],
            "std.error": long["condsd"],
        }
    )
    if conf_int:
        z = float(stats.norm.ppf(0.5 + level / 2))
        out["conf.low"] = out["estimate"] - z * out["std.error"]
        out["conf.high"] = out["estimate"] + z * out["std.error"]
    return out


def ranef_frame(fit: Any) -> pd.DataFrame:
    """The random effects long, as R's ``as.data.frame(ranef(fit, condVar = TRUE))``: columns
    ``grpvar, term, grp, condval, condsd``; per grouping factor, per column, every level."""
    parts = []
    sds = fit.ranef_condsd
    for group, values in fit.ranef.items():
        sd = sds[group]
        for column in values.columns:
            parts.append(
                pd.DataFrame(
                    {
                        "grpvar": group,
                        "term": str(column),
                        "grp": [str(level) for level in values.index],
                        "condval": values[column].to_numpy(dtype=float),
                        "condsd": sd[column].to_numpy(dtype=float),
                    }
                )
            )
    if not parts:  # no random-effects terms (gls)
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _LONG.items()})
    return pd.concat(parts, ignore_index=True)


def glance(fit: Any) -> pd.DataFrame:
    """One row per model, as broom.mixed's ``glance`` of an lmer fit: ``nobs, sigma, logLik,
    AIC, BIC, REMLcrit`` (REML fits) or ``deviance`` (ML fits), ``df.residual``."""
    criterion = "REMLcrit" if fit.reml else "deviance"
    row = {
        "nobs": int(fit.nobs),
        "sigma": float(fit.sigma),
        "logLik": float(fit.loglik),
        "AIC": float(fit.aic),
        "BIC": float(fit.bic),
        criterion: float(fit.objective),
        "df.residual": int(fit.nobs - fit.dof),
    }
    return pd.DataFrame([row])


def augment(fit: Any, data: Any = None) -> pd.DataFrame:
    """The data with ``.fitted``, ``.resid`` and ``.fixed`` columns (see
    :meth:`mixedfit.LinearMixedModel.augment`)."""
    design = fit._design
    values = {
        ".fitted": np.asarray(fit.fitted, dtype=float),
        ".resid": np.asarray(fit.residuals, dtype=float),
        ".fixed": np.asarray(fit.predict(random=False), dtype=float),
    }
    if data is None:
        if design.frame is None:
            raise MixedFitError("this fit keeps no model frame; pass the data: fit.augment(data)")
        out = design.frame.copy()
        for name, column in values.items():
            out[name] = column
        return out
    frame = as_pandas(data)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"augment(data) takes the data the model was fitted to (a data frame), not "
            f"{type(data).__name__}"
        )
    expected = fit.nobs + fit.n_dropped
    if len(frame) != expected:
        raise DataError(
            f"the data have {len(frame)} rows but the model was fitted to {expected}; "
            "augment takes the fitted data (use fit.predict(newdata) for new rows)"
        )
    out = frame.copy()
    for name, column in values.items():
        full = np.full(expected, np.nan)
        full[design.rows] = column
        out[name] = full
    return out


class TidyMethods:
    """``tidy``, ``glance``, ``augment`` and ``ranef_frame`` as methods: a base class of
    :class:`mixedfit.LinearMixedModel` and :class:`mixedfit.ResidualMixedModel`."""

    def tidy(
        self,
        effects: str | Sequence[str] = ("fixed", "ran_pars"),
        conf_int: bool = False,
        conf_level: float = 0.95,
        ddf: str = "satterthwaite",
        scales: str = "sdcor",
    ) -> pd.DataFrame:
        """One row per parameter, as broom.mixed's ``tidy()`` of an lmerTest fit.

        Parameters
        ----------
        effects : str or sequence of {"fixed", "ran_pars", "ran_vals"}
            Default ``("fixed", "ran_pars")``, as broom.mixed. Rows come in that order.
        conf_int : bool, default False
            Add ``conf.low, conf.high``: t intervals with ``df`` for fixed effects (as
            :meth:`coef_table`), normal intervals ± z·``std.error`` for ``ran_vals``; NaN for
            ``ran_pars`` (as broom.mixed's Wald intervals; see :meth:`confint` for profiles).
        conf_level : float, default 0.95
        ddf : {"satterthwaite", "kenward-roger", "none"}
            The ``df`` and ``p.value`` of fixed effects (``"none"``: normal, no ``df``).
        scales : {"sdcor", "vcov"}
            ``ran_pars`` as ``sd__col`` / ``cor__col1.col2`` (default) or ``var__`` / ``cov__``.

        Returns
        -------
        pandas.DataFrame
            Columns (those that apply): ``effect, group, level, term, estimate, std.error,
            statistic, df, p.value, conf.low, conf.high``. ``group`` is the grouping factor
            (``Residual`` for σ, as ``sd__Observation``); ``level`` its level (``ran_vals``).
            A residual covariance structure adds its parameters to ``ran_pars`` in group
            ``Residual`` (``cor__Phi``, ``varfun__Female``, ...: the labels of
            ``fit.residual.params`` after ``cor__`` for the correlation structure, ``varfun__``
            for the variance function; see :mod:`mixedfit.report.tidy`).
        """
        return tidy(self, effects, conf_int, conf_level, check_ddf(ddf), scales)

    def glance(self) -> pd.DataFrame:
        """One row, as broom.mixed's ``glance()``: ``nobs, sigma, logLik, AIC, BIC``,
        ``REMLcrit`` (REML fit) or ``deviance`` (ML fit), ``df.residual`` (nobs − parameters)."""
        return glance(self)

    def augment(self, data: Any = None) -> pd.DataFrame:
        """The data with ``.fitted`` (Xβ̂ + Zb̂), ``.resid`` (y − ``.fitted``) and ``.fixed`` (Xβ̂)
        columns, as broom.mixed's ``augment()``.

        Parameters
        ----------
        data : DataFrame-like, optional
            The data the model was fitted to (pandas, polars, pyarrow, ...): every row is kept,
            NaN in the new columns where the fit dropped the row. Default: the model frame (the
            used rows and the columns the model reads).

        Raises
        ------
        DataError
            ``data`` have a different number of rows than the fitted data.
        """
        return augment(self, data)

    def ranef_frame(self) -> pd.DataFrame:
        """The random effects long, as R's ``as.data.frame(ranef(fit, condVar = TRUE))``:
        columns ``grpvar, term, grp, condval, condsd`` (see :attr:`ranef`, :attr:`ranef_condsd`)."""
        return ranef_frame(self)
