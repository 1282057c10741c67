#!/bin/bash
cd /tmp/p15/rv21
while pgrep -f "scan2.py /tmp/p15/rv21/oldres" > /dev/null; do sleep 5; done
./bisect_m4.sh
PYTHONPATH=/work/wt-rv21 /work/main/.venv/bin/python scan2.py /tmp/p15/rv21 ar1:3:ml:3:abc,bca,cab toep:2:ml:3:ab,ba ar1:2:reml:15:ab,ba ar1:2:ml:11:ab,ba ar1:2:reml:17:ab,ba ar1:3:reml:16:abc,bca,cab ar1:2:reml:1:ab,ba ar1:2:ml:14:ab,ba ar1:2:reml:9:ab,ba ar1:2:ml:9:ab,ba ar1:2:reml:14:ab,ba ar1:2:ml:13:ab,ba ar1:2:reml:3:ab,ba ar1:2:ml:5:ab,ba ar1:2:reml:10:ab,ba ar1:2:ml:16:ab,ba ar1:2:ml:17:ab,ba ar1:2:reml:13:ab,ba ar1:2:reml:8:ab,ba ar1:2:ml:7:ab,ba toep:2:reml:10:ab,ba ar1:2:ml:6:ab,ba ar1:2:ml:12:ab,ba ar1:2:reml:4:ab,ba ar1:2:ml:18:ab,ba ar1:2:reml:2:ab,ba ar1:2:reml:11:ab,ba ar1:2:ml:19:ab,ba ar1:2:reml:12:ab,ba ar1:2:reml:6:ab,ba ar1:2:reml:18:ab,ba ar1:2:reml:19:ab,ba > logs/scan3.log 2>&1
