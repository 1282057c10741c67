#!/bin/bash
cd /tmp/p15/rv22
while kill -0 $(cat chain4.pid) 2>/dev/null; do sleep 5; done
export PYTHONDONTWRITEBYTECODE=1
PYTHONPATH=/work/wt-rv22 /work/main/.venv/bin/python /work/wt-rv22/benchmarks/reference_evals.py --output /tmp/p15/rv22/evals_new.json > evals.log 2>&1
PYTHONPATH=/work/wt-rv21 /work/main/.venv/bin/python /work/wt-rv21/benchmarks/reference_evals.py --output /tmp/p15/rv22/evals_old.json >> evals.log 2>&1
PYTHONPATH=/work/wt-rv22 /work/main/.venv/bin/python /work/wt-rv22/benchmarks/reference_evals.py --ml --output /tmp/p15/rv22/evals_new_ml.json >> evals.log 2>&1
