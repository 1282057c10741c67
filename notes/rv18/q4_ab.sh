#!/bin/sh
# alternate old/new 3 times; one JSON line per run
cd /tmp
for i in 1 2 3; do
  for v in old new; do
    if [ $v = old ]; then P=/tmp/rv18-c9; else P=/work/wt-rv18; fi
    printf '%s %s ' $v "$(cat /proc/loadavg | cut -d' ' -f1)"; PYTHONPATH=$P /work/main/.venv/bin/python /tmp/p13/rv18/q4_ab.py
  done
done
