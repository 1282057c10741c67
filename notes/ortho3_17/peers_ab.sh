#!/bin/bash
py=/work/main/.venv/bin/python
for r in $(seq 1 ${1:-4}); do for v in old new; do
  d=/tmp/p17/ortho3/$v
  (cd $d && PYTHONDONTWRITEBYTECODE=1 NUMBA_CACHE_DIR=/tmp/p17/ortho3/cache_test_$v PYTHONPATH=$d $py benchmarks/peers.py --rounds 40 --nsim 0 --no-lme4 --slow-every 1000 --output /tmp/p17/ortho3/peers_${v}_$r.md > /tmp/p17/ortho3/peers_${v}_$r.log 2>&1)
  echo "$r $v done $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
done; done
