#!/bin/bash
# Lane ortho2 (session 16): one variant's cold compile and its loaded kernel, on a fresh cache.
# usage: run.sh DIR TAG  (DIR holds a mixedfit/ package, e.g. from `git archive HEAD mixedfit`)
# Prints: the cold process (import + Orthodont fit, user CPU), the same from the warm cache, and
# warm.py's per-evaluation minima (µs) with the fits' log-likelihood (hex) and a digest of 500 values.
here=$(cd "$(dirname "$0")" && pwd); v=$(cd "$1" && pwd); cache=/tmp/ortho2_cache_$(basename "$v")_$2
rm -rf "$cache"; mkdir -p "$cache"; cd "$v"
py=${PYTHON:-/work/main/.venv/bin/python}
echo "cold $1 $2 $(NUMBA_CACHE_DIR=$cache PYTHONPATH=$v $py "$here/cold.py" 2>&1 | tail -1)"
echo "warmfit $1 $2 $(NUMBA_CACHE_DIR=$cache PYTHONPATH=$v $py "$here/cold.py" 2>&1 | tail -1)"
echo "warm $1 $2 $(NUMBA_CACHE_DIR=$cache PYTHONPATH=$v $py "$here/warm.py" 2>&1 | tail -1)"
