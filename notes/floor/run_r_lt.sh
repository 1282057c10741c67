#!/bin/sh
# R's dense multistart (tests/reference/cov_rar1_stress/dense_stress3.R) on large_theta.py's sets: names as arguments
cd "$(dirname "$0")"
for s in "$@"; do
  python3 -c "import json,sys; json.dump([dict(name='$s',term='ar1hom',vi=True,K=6,reml=False)], open('specs_$s.json','w'))"
  Rscript ../../tests/reference/cov_rar1_stress/dense_stress3.R specs_$s.json $s . > ${s}_R.json 2> ${s}_R.err
done
