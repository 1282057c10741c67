"""Inference stage (5): tests and intervals of a fitted model.

Modules: :mod:`.ddf` (t and F tests with Satterthwaite or Kenward–Roger denominator df; the
numerics in :mod:`.satterthwaite` and :mod:`.kenward_roger`, cached per fit by :mod:`.cache`),
:mod:`.hypotheses` (contrast strings → ``L β = rhs``), :mod:`.contrasts` (lmerTest's type III
contrasts), :mod:`.lrt` (likelihood-ratio tests between fits), :mod:`.intervals` (``confint``:
Wald, profile, bootstrap), :mod:`.profile` and :mod:`.deviance` (profile-likelihood intervals),
:mod:`.bootstrap` (simulation and the parametric bootstrap), :mod:`.parameters` (parameter
names and SD/correlation scales), :mod:`.prediction` (population-level confidence and prediction
intervals of predictions), :mod:`.lrt_table` (the likelihood-ratio table: row labels, the models
and how they were compared), :mod:`.refgrid`, :mod:`.emmeans` and :mod:`.multiplicity`
(emmeans' marginal means and contrasts), :mod:`.r2` (performance's R² and ICC).

Imports: the earlier stages (:mod:`mixedfit.exceptions`, :mod:`mixedfit.formula`,
:mod:`mixedfit.design`, :mod:`mixedfit.engine`, :mod:`mixedfit.model`) only; refits go through
:func:`mixedfit.model.engine_terms`, never back up to the API.
"""
