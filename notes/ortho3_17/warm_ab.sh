#!/bin/bash
py=/work/main/.venv/bin/python
for r in $(seq 1 ${1:-3}); do for v in old new; do
  d=/tmp/p17/ortho3/$v
  echo "$r $v $(cd $d && PYTHONDONTWRITEBYTECODE=1 NUMBA_CACHE_DIR=/tmp/p17/ortho3/cache_test_$v PYTHONPATH=$d $py /tmp/p17/ortho3/warm.py 2>&1 | tail -1) load $(cut -d' ' -f1 /proc/loadavg)"
done; done
