#!/bin/bash
# rv21: the Satterthwaite references, after runR.sh
cd /tmp/p15/rv21
while kill -0 $(cat logs/runR.pid) 2>/dev/null; do sleep 10; done
run() { Rscript sat_hold.R "$@" > r/sat_$1_$3_$4.json 2> logs/sat_$1_$3_$4.err; echo "$(date -u +%T) sat $*" >> logs/R.log; }
run m0 0 interior none
run s7 1 interior a
run m3 0 edge-1 a
run m1 0 interior b
run m15 0 edge+1 a
run m10 0 edge+1 a
run s16 1 interior a
