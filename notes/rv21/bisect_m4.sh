#!/bin/bash
# rv21: ML seed 4 order ba at the tail16 merge (52253cf) and at s0's fix (fed84f2)
cd /tmp/p15/rv21
for c in 52253cf fed84f2; do
  mkdir -p bis_$c
  PYTHONPATH=/tmp/p15/rv21/at_$c /work/main/.venv/bin/python scan2.py /tmp/p15/rv21/bis_$c ar1:2:ml:4:ba > logs/bis_$c.log 2>&1
done
