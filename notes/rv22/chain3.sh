#!/bin/bash
cd /tmp/p15/rv22
while kill -0 $(cat chain2.pid) 2>/dev/null; do sleep 5; done
cd /tmp/p15/rv22; PYTHONPATH=/work/wt-rv22 PYTHONDONTWRITEBYTECODE=1 /work/main/.venv/bin/python diag_vanish.py ar1:2:ml:4:ab ar1:3:ml:3:bca > diag_vanish.log 2>&1
PYTHONPATH=/work/wt-rv21 PYTHONDONTWRITEBYTECODE=1 /work/main/.venv/bin/python oldload.py rttmp/rt_*.json > oldload.log 2>&1
cd /work/wt-rv22
export PYTHONPATH=/work/wt-rv22:/tmp/p15/rv22/rtplug RV22_RT_LOG=/tmp/p15/rv22/rt_plugin.jsonl PYTHONDONTWRITEBYTECODE=1
P=/work/main/.venv/bin/python
for f in test_residual_structured_re test_residual_level test_cov_ref test_residual_kr test_structured_oxboys test_residual_car1_bound test_residual_spatial_blocks test_varident_interior_tiny test_varident_probe_units test_varident_partial_limit test_varident_tiny_kr test_varident_interior_df test_varident_vanished_df test_varident_reference_df test_residual_limit_exact test_limit_df test_varident_dense_limit test_residual_edge_report test_cov_ri_arh test_cov_ar1_varident test_varident_exact_stratum test_varident_reference_crawl; do
  echo "=== $f $(date -u +%T)"
  $P -m pytest -q -p no:cacheprovider -p rv22_rt -x --no-header tests/$f.py 2>&1 | tail -4
done
echo "=== done $(date -u +%T)"
