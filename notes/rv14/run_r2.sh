#!/bin/bash
# usage: run_r.sh specs.json name...   -> r/<name>.json, logs r/<name>.log
mkdir -p /tmp/p12/stress/r
specs=$1; shift
for n in "$@"; do
  Rscript /tmp/p12/stress/dense_stress2.R $specs $n > /tmp/p12/stress/r/$n.json 2> /tmp/p12/stress/r/$n.log
done
