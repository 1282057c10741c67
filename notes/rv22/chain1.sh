#!/bin/bash
cd /tmp/p15/rv22
export PYTHONPATH=/work/wt-rv22
P=/work/main/.venv/bin/python
$P scan2.py /tmp/p15/rv22 ar1:2:ml:4:ab,ba ar1:2:ml:18:ab,ba ar1:2:ml:3:ab,ba ar1:2:reml:7:ab,ba ar1:2:ml:0:ab,ba ar1:2:reml:16:ab,ba ar1:2:ml:10:ab,ba ar1:2:ml:1:ab,ba ar1:2:ml:8:ab,ba ar1:2:ml:15:ab,ba ar1:2:reml:0:ab,ba toep:2:ml:3:ab,ba ar1:2:ml:2:ab,ba ar1:2:ml:5:ab,ba ar1:3:ml:3:abc,bca,cab
