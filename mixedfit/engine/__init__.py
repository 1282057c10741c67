"""Engine stage (3): arrays only — the profiled REML/ML criterion of a linear mixed model by the
blocked Cholesky factor of Bates et al. (2015) / MixedModels.jl, and its optimization (BOBYQA).

Entry point: :func:`.lmm.fit_lmm` (random-effects terms as :class:`.reterm.ReTerm` arrays, X, y,
weights) → :class:`.lmm.EngineFit`. See README's layout for the modules.

Imports: :mod:`mixedfit.exceptions` only (and numpy, scipy, nlopt); nothing of formulas, data
frames or names.
"""
