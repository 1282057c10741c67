#!/bin/bash
cd /tmp/p14/rv20
for s in 0 1 2 4; do
  PYTHONPATH=/work/wt-rv20 timeout 900 /work/main/.venv/bin/python ml.py $s > ml${s}_main.log 2>&1
  PYTHONPATH=/tmp/rv20-old timeout 900 /work/main/.venv/bin/python ml.py $s > ml${s}_old.log 2>&1
done
