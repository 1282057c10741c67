#!/bin/bash
# alternate cold compiles: benchmarks/cold_start.py (sleepstudy+Penicillin+bootstrap) and cold.py (Orthodont), main vs new
py=/work/main/.venv/bin/python
for r in 1 2 3; do
  for v in old new; do
    d=/tmp/p17/ortho3/$v
    echo "$r $v cold_start $(cd $d && PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$d $py benchmarks/cold_start.py 2>&1 | tail -1) load $(cut -d' ' -f1 /proc/loadavg)"
    c=/tmp/p17/ortho3/cache_cold_$v; rm -rf $c; mkdir -p $c
    echo "$r $v ortho_cold $(cd $d && PYTHONDONTWRITEBYTECODE=1 NUMBA_CACHE_DIR=$c PYTHONPATH=$d $py /tmp/p17/ortho3/cold.py 2>&1 | tail -1) load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
