#!/bin/sh
cd /tmp/p10/rv10
for c in two5 cs5 ar16 ar13 ri_none6 slope4; do nice Rscript dense.R $c > dense_$c.log 2>&1; done
echo done > dense_all.done
