#!/bin/bash
# wait for process X's log to gain a line (its in-flight fit done), then stop it (by pid) and restart with jobsX2
X=$1; cd /tmp/p16/rv24
n=$(wc -l < logs/scan$X.log)
while [ $(wc -l < logs/scan$X.log) -le $n ]; do sleep 2; done
kill $(cat logs/scan$X.pid)
sleep 1
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/work/wt-rv24 nice -n 5 /work/main/.venv/bin/python scan24.py /tmp/p16/rv24 $(cat jobs${X}2.txt) > logs/scan${X}2.log 2>&1 &
echo $! > logs/scan${X}2.pid
wait
