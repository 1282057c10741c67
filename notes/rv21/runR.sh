#!/bin/bash
# rv21: R's dense multistart over the missing cases, one at a time
cd /tmp/p15/rv21
S=/work/main/tests/reference/cov_rar1_stress/dense_stress3.R
for n in s1 s2 s4 s5 s6 s8 s9 s10 s11 s12 s13 s14 s15 m5 m6 m7 m9 m12 m13 m14 m16 m17 m18 m19; do
  [ -s r/r_$n.json ] && continue
  Rscript $S specs.json $n data > r/r_$n.json 2> logs/R_$n.err; echo "$(date -u +%T) $n done" >> logs/R.log
done
for n in g3 g10 g15 h16 h7; do
  [ -s r/r_$n.json ] && continue
  Rscript dense3g.R specs.json $n data > r/r_$n.json 2> logs/R_$n.err; echo "$(date -u +%T) $n done" >> logs/R.log
done
for n in t5 t10 t16 tm3; do
  [ -s r/r_$n.json ] && continue
  Rscript $S specs.json $n data > r/r_$n.json 2> logs/R_$n.err; echo "$(date -u +%T) $n done" >> logs/R.log
done
