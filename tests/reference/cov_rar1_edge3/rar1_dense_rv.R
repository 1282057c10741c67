# The dense criterion of tests/reference/cov_rar1_limit/rar1_dense_criterion.R (rar1_fit_one; no
# mixedfit code) for one method, over the data sets named on the command line. Run in this directory
# (the source() path below is relative to it): Rscript rar1_dense_rv.R REML refit9on12
#   -> refit9on12_REML.json. Until session 12 this file held a verbatim copy of rar1_fit_one.
source("../cov_rar1_limit/rar1_dense_criterion.R")  # rar1_fit_one, library(jsonlite), library(nlme)
fit_one <- rar1_fit_one
a <- commandArgs(TRUE); reml <- a[1] == "REML"
for (nm in a[-1]) {
  f <- fit_one(sprintf("%s.csv", nm), reml)
  write_json(f, sprintf("%s_%s.json", nm, a[1]), digits = NA, auto_unbox = TRUE, pretty = TRUE)
}
