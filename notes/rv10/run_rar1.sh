#!/bin/sh
cd /tmp/p10/rv10
nice Rscript rar1_dense.R rar1_s4 rar1_s5 rar1_s3 rar1b_s21 rar1b_s22 > rar1_dense.log 2>&1
echo done > rar1_dense.done
