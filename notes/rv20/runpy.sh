#!/bin/bash
cd /tmp/p14/rv20
for s in 16 17 18 19; do
  PYTHONPATH=/work/wt-rv20 /work/main/.venv/bin/python seed7.py $s > s${s}_main.log 2>&1
  PYTHONPATH=/tmp/rv20-old /work/main/.venv/bin/python seed7.py $s > s${s}_old.log 2>&1
done
