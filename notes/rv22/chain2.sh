#!/bin/bash
# waits for chain1 then runs the round trips
cd /tmp/p15/rv22
while kill -0 $(cat chain1.pid) 2>/dev/null; do sleep 5; done
export PYTHONPATH=/work/wt-rv22
P=/work/main/.venv/bin/python
$P rtscan.py rt_scan.jsonl ar1:3:ml:3:bca,abc,cab ar1:2:ml:4:ab,ba ar1:2:ml:1:ab,ba ar1:2:reml:7:ab,ba ar1:2:reml:16:ab,ba ar1:2:ml:3:ab ar1:2:ml:2:ab toep:2:ml:3:ab,ba ar1:3:reml:16:bca,abc ar1:2:ml:5:ab,ba ar1:2:ml:9:ab,ba
