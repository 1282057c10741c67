"""The cold start (issue 15): fits compile each numba function of the kernels once.

numba compiles a function again for every new argument type, and an array's layout (C or any:
a slice), read-only flag and dtype are part of its type: every extra signature is seconds of
CPU after installation (or with an empty cache). The fits here (random slopes k = 2, crossed
intercepts k = 1, a parametric bootstrap: the compiled refit loop) compile or load every
compiled function of :mod:`.jit_kernel`, :mod:`.jit_start` and :mod:`.jit_refit`; numba's
cache index of each function (written by whichever process compiled it: a function called only
inside another one is loaded with its caller, so ``dispatcher.signatures`` would not show it)
then lists the signatures ever compiled for the current source: one each.
"""

from __future__ import annotations

import warnings

import pytest

import mixedfit as mf
from mixedfit.engine import jit

pytestmark = pytest.mark.skipif(not jit.enabled(), reason="numba is not installed")

# _lu_solve solves with the factors _term_setup writes (writable) and, in moment_response,
# with the design's kept factors (read-only arrays); tests/test_jit_start.py calls
# _between_level_rank itself with arrays of other layouts
_ALLOWED = {"jit_start._lu_solve": 2, "jit_start._between_level_rank": 3}


@pytest.fixture(scope="module")
def signatures() -> dict[str, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mf.MixedFitWarning)
        fit = mf.lmer("Reaction ~ 1 + Days + (1 + Days | Subject)", mf.load_dataset("sleepstudy"))
        mf.lmer("diameter ~ 1 + (1 | plate) + (1 | sample)", mf.load_dataset("penicillin"))
        fit.bootstrap(nsim=2, seed=1)
    from numba.core.registry import CPUDispatcher

    from mixedfit.engine import jit_kernel, jit_refit, jit_start

    out = {}
    for module in (jit_kernel, jit_start, jit_refit):
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher):
                index = value._cache._cache_file._load_index()  # {(signature, ...): file}
                out[module.__name__.rsplit(".", 1)[1] + "." + name] = len({k[0] for k in index})
    return out


def test_the_fits_use_the_compiled_kernels(signatures: dict[str, int]) -> None:
    for name in (
        "jit_kernel.evaluate",
        "jit_kernel._columns_first",
        "jit_kernel._forward_first",
        "jit_start.moment_response",
        "jit_start._lu",
        "jit_refit.refit_batch",
        "jit_refit._derivatives",
    ):
        assert signatures[name] >= 1, name


def test_each_function_compiles_once(signatures: dict[str, int]) -> None:
    extra = {name: count for name, count in signatures.items() if count > _ALLOWED.get(name, 1)}
    assert not extra, f"compiled more than once: {extra}"
