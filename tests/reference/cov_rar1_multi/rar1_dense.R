# The references of tests/test_residual_multistart.py (issue 12, reviewer rv11 HIGH-1..3): the
# model y ~ x + ar1(0 + occf | Subject, hom = FALSE) + AR(1) residual, its REML / ML criterion
# written densely (V per subject = diag(s) rho^|lag| diag(s) + phi^|lag|, sigma^2 profiled), maximized
# by nlminb + BFGS from six starts, and with phi held at +1 / -1 (the edges), without mixedfit.
# fit_one is rar1_fit_one of tests/reference/cov_rar1_limit/rar1_dense_criterion.R, source()d below
# by a path relative to this directory (run the script from here); until session 12 this file held a
# verbatim copy of it.
# Run (in this directory): Rscript rar1_dense.R  -> hedge_s<seed>_<REML|ML>.json
# (data: make_rar1_multi.py; rv11 ran it as notes/rv11/rar1_dense.R, session 10)
source("../cov_rar1_limit/rar1_dense_criterion.R")  # rar1_fit_one: the dense criterion (path from this directory)
fit_one <- rar1_fit_one
for (nm in sprintf("hedge_s%d", c(0, 1, 2, 3, 4, 5))) for (reml in c(TRUE, FALSE)) {
  f <- fit_one(sprintf("%s.csv", nm), reml)
  write_json(f, sprintf("%s_%s.json", nm, if (reml) "REML" else "ML"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
}
