#!/usr/bin/env bash
# Install what the benchmark suite needs beyond mixedfit itself, on a fresh Debian machine:
# R with lme4 (plus lmerTest and pbkrtest) from Debian's packages, and statsmodels and
# threadpoolctl from PyPI. Run as root (or with sudo) from the repository root:
#
#   bash benchmarks/setup.sh
#
# mixedfit itself: `pip install .` (see README.md). PYTHON picks the interpreter (python3).
set -euo pipefail

PYTHON="${PYTHON:-python3}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
  r-base-core r-cran-lme4 r-cran-lmertest r-cran-pbkrtest

"$PYTHON" -m pip install statsmodels threadpoolctl

Rscript -e 'suppressPackageStartupMessages(library(lme4)); cat("lme4", format(packageVersion("lme4")), "\n")'
"$PYTHON" -c 'import statsmodels; print("statsmodels", statsmodels.__version__)'
