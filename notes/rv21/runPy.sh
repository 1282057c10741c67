#!/bin/bash
cd /tmp/p15/rv21
export PYTHONPATH=/work/wt-rv21
P=/work/main/.venv/bin/python
$P scan.py new_ar1_ml.jsonl ar1 2 ml 0-19 ab,ba > logs/new_ar1_ml.log 2>&1
$P scan.py new_ar1_reml.jsonl ar1 2 reml 0-19 ab,ba > logs/new_ar1_reml.log 2>&1
