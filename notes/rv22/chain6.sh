#!/bin/bash
cd /tmp/p15/rv22
while kill -0 $(cat chain5.pid) 2>/dev/null; do sleep 5; done
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/work/wt-rv22 /work/main/.venv/bin/python plain_fit.py 0 ml 18 ml 6 ml 0 reml > plain_fit.jsonl 2> plain_fit.err
