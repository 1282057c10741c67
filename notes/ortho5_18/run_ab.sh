#!/bin/bash
# Whole-call A/B by process: main (OLD, a `git archive` copy) and this branch (NEW) alternated,
# notes/ortho5_18/harness.py ROUNDS in each; summ.py OUT gives the medians and paired ratios.
# usage: run_ab.sh PAIRS ROUNDS OUT
P=$1; R=$2; OUT=$3; : > $OUT
OLD=${OLD:-/tmp/p18/ortho5/old}
NEW=${NEW:-$(cd "$(dirname "$0")/../.." && pwd)}
for i in $(seq 1 $P); do
  for side in old new; do
    if [ $side = old ]; then d=$OLD; else d=$NEW; fi
    r=$(cd $d && PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$d /work/main/.venv/bin/python $NEW/notes/ortho5_18/harness.py $R)
    echo "$side $r" >> $OUT
  done
done
