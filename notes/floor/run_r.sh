#!/bin/sh
# R's dense multistart (tests/reference/cov_rar1_stress/dense_stress3.R) on the span seeds
cd "$(dirname "$0")"
for s in "$@"; do
  Rscript ../../tests/reference/cov_rar1_stress/dense_stress3.R specs_span.json span_s$s . > span_s${s}_R.json 2> span_s${s}_R.err
done
