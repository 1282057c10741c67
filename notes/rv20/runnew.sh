#!/bin/bash
cd /tmp/p14/rv20; d=/tmp/rv20-bis/03dc37d
PYTHONPATH=$d timeout 600 /work/main/.venv/bin/python ml.py 3 > new_ml3.log 2>&1
PYTHONPATH=$d timeout 600 /work/main/.venv/bin/python seed7.py 16 > new_s16.log 2>&1
PYTHONPATH=$d timeout 600 /work/main/.venv/bin/python ml.py 10 > new_ml10.log 2>&1
PYTHONPATH=$d timeout 600 /work/main/.venv/bin/python seed7.py 7 > new_s7.log 2>&1
