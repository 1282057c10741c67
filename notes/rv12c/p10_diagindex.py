"""blocks.block_diagonal_index (lru_cache 64, fcall4) retains 16*nlev*k^2 bytes per entry; clear_caches()
does not empty it and caches_disabled() does not bypass it. Direct calls (what each fit's factor does)."""
import gc
import mixedfit as mf
from mixedfit.engine.blocks import block_diagonal_index
from mixedfit.formula.memo import clear_caches, caches_disabled
from p6_memory import rss

if __name__ == "__main__":
    print("start", rss(), "MB")
    with caches_disabled():
        for i in range(64):
            block_diagonal_index(100_000 + i, 3)
    gc.collect(); print("after 64 factors (nlev ~1e5, k=3) under caches_disabled:", rss(), "MB", block_diagonal_index.cache_info())
    clear_caches(); gc.collect(); print("after clear_caches:", rss(), "MB", block_diagonal_index.cache_info())
