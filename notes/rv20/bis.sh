#!/bin/bash
# usage: bis.sh COMMIT -> prints commit loglik
c=$1; d=/tmp/rv20-bis/$c; mkdir -p $d; git -C /work/main archive $c mixedfit | tar -x -C $d
l=$(PYTHONPATH=$d timeout 900 /work/main/.venv/bin/python /tmp/p14/rv20/seed7.py 7 2>&1 | head -1)
w=$(PYTHONPATH=$d timeout 900 /work/main/.venv/bin/python -c "pass" ; echo)
echo "$c $l"
