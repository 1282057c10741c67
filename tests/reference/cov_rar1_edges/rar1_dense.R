source("../cov_rar1_limit/rar1_dense_criterion.R")  # rar1_fit_one: the dense criterion (path from this directory, where the script is run)
fit_one <- rar1_fit_one
# rv10: the lanes' dense criterion (make_rar1_edges.R, written without mixedfit) on held-out data
# Run (in this directory): Rscript rar1_dense.R rar1_s3 rar1_s4  -> rar1_<s3|s4>_<REML|ML>.json
# (reviewer rv10, session 10; the data: make_rar1.py, seeds 3 and 4)
for (nm in commandArgs(TRUE)) for (reml in c(TRUE, FALSE)) {
  f <- fit_one(sprintf("%s.csv", nm), reml)
  write_json(f, sprintf("%s_%s.json", nm, if (reml) "REML" else "ML"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
}
