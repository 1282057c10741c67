#!/usr/bin/env bash
# Install what the benchmark suite needs beyond mixedfit itself, on a fresh Debian machine:
# R with lme4 (plus lmerTest and pbkrtest, and jsonlite for peers.py) from Debian's packages, and
# statsmodels, glmm, mixedlm and threadpoolctl from PyPI (glmm and mixedlm are the Python peers of
# benchmarks/peers.py). Run as root (or with sudo) from the repository root:
#
#   bash benchmarks/setup.sh             # R with Debian's default (reference, 1-thread) BLAS
#   bash benchmarks/setup.sh --openblas  # also OpenBLAS for R (Debian's alternatives switch)
#
# Debian's R uses the netlib reference BLAS unless an optimized one is installed; lme4's sparse
# Cholesky (CHOLMOD) runs its dense blocks through BLAS, so on the 10^6-row model lme4 is far
# slower with it. numpy uses OpenBLAS. --openblas installs libopenblas0-pthread, which becomes
# R's BLAS/LAPACK system-wide (the benchmark report records which BLAS R used).
#
# mixedfit itself: `pip install .` (see README.md). PYTHON picks the interpreter (python3).
set -euo pipefail

EXTRA=()
for arg in "$@"; do
  case "$arg" in
    --openblas) EXTRA+=(libopenblas0-pthread) ;;
    *) echo "usage: $0 [--openblas]" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  r-base-core r-cran-lme4 r-cran-lmertest r-cran-pbkrtest r-cran-jsonlite ${EXTRA[@]+"${EXTRA[@]}"}

"$PYTHON" -m pip install statsmodels glmm mixedlm threadpoolctl

Rscript -e 'suppressPackageStartupMessages(library(lme4))
cat("lme4", format(packageVersion("lme4")), "\nR BLAS:", sessionInfo()$BLAS, "\n")'
"$PYTHON" -c 'import statsmodels; print("statsmodels", statsmodels.__version__)'
"$PYTHON" -m pip show glmm mixedlm | grep -E '^(Name|Version):'
