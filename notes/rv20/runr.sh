#!/bin/bash
cd /tmp/p14/rv20
for s in 16 17 18 19; do Rscript /work/main/tests/reference/cov_rar1_stress/dense_stress3.R rdata/specs.json s$s rdata > r_s$s.json 2> r_s$s.err; done
