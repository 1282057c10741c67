#!/bin/bash
# usage: run_r3m.sh waitpid name...  (spec file chosen by case number)
w=$1; shift
while kill -0 $w 2>/dev/null; do sleep 5; done
mkdir -p /tmp/p12/stress/r
for n in "$@"; do
  num=${n#c}; if [ $((10#$num)) -ge 24 ]; then sp=/tmp/p12/stress/data/specs_24.json; else sp=/tmp/p12/stress/data/specs_0.json; fi
  Rscript /tmp/p12/stress/dense_stress3.R $sp $n > /tmp/p12/stress/r/$n.json 2> /tmp/p12/stress/r/$n.log
done
