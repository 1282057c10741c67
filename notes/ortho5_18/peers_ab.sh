#!/bin/bash
# alternate main (archive) and the branch: peers.py --rounds R --nsim 0 --no-lme4 --slow-every 1000
N=$1; R=$2
for i in $(seq 1 $N); do
  for side in old new; do
    if [ $side = old ]; then d=${OLD:-/tmp/p18/ortho5/old}; else d=${NEW:-/work/wt-ortho5}; fi
    (cd $d && PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$d /work/main/.venv/bin/python benchmarks/peers.py --rounds $R --nsim 0 --no-lme4 --slow-every 1000 --blocks 1 --output ${OUT:-/tmp/p18/ortho5/peers}/${side}_$i.md > ${OUT:-/tmp/p18/ortho5/peers}/${side}_$i.log 2>&1)
  done
done
