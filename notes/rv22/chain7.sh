#!/bin/bash
cd /tmp/p15/rv22
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/work/wt-rv22 /work/main/.venv/bin/python rtscan.py rt_scan2.jsonl ar1:2:ml:6:ab,ba ar1:2:ml:7:ab,ba ar1:2:ml:11:ab,ba ar1:2:ml:12:ab,ba ar1:2:ml:13:ab,ba ar1:2:ml:14:ab,ba ar1:2:ml:16:ab,ba ar1:2:ml:17:ab,ba ar1:2:ml:19:ab,ba ar1:2:reml:1:ab,ba ar1:2:reml:3:ab,ba ar1:2:reml:5:ab,ba ar1:3:ml:10:abc,bca,cab ar1:3:ml:15:abc,bca > rt_scan2.log 2>&1
