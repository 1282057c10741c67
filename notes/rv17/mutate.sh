#!/bin/bash
# Q3: the wave's tests without each piece (mutate_plugin.py); logs in /tmp/p13/rv17/mut_<name>.log
cd /work/wt-rv17
run() { PYTHONPATH=/work/wt-rv17:/tmp/p13/rv17 RV17_MUT=$1 timeout 1500 nice /work/main/.venv/bin/python -m pytest -q -p no:cacheprovider -p mutate_plugin "${@:2}" > /tmp/p13/rv17/mut_$1.log 2>&1; }
run none tests/test_varident_stress_ll.py tests/test_varident_partial_limit.py tests/test_residual_multistart_vi.py tests/test_residual_car1_bound.py
run dense_below tests/test_varident_stress_ll.py
run reset tests/test_residual_multistart_vi.py tests/test_varident_stress_ll.py -k "c29"
run partial tests/test_varident_partial_limit.py
run checked_lower tests/test_residual_car1_bound.py
run scale_room tests/test_varident_stress_ll.py -k v5
