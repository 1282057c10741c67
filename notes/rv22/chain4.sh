#!/bin/bash
cd /tmp/p15/rv22
while kill -0 $(cat chain3.pid) 2>/dev/null; do sleep 5; done
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/work/wt-rv21 /work/main/.venv/bin/python krload.py old > krload.log 2>&1
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/work/wt-rv22 /work/main/.venv/bin/python krload.py new >> krload.log 2>&1
