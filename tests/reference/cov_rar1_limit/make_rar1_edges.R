# Issue 12, session 10 lane rlim3: the model of make_rar1_limit.R,
#   mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", data, reml=,
#           residual=mf.AR1("occ", "Subject")),
# on seed 1 (rar1_limit.csv) by ML, and on seed 2 of make_rar1_limit_data.py (rar1_seed2.csv)
# by REML and ML. The model's own criterion written densely (no mixedfit code; make_rar1_limit.R's
# devb with an ML branch):
#   V / sigma^2 = R(phi) + Z G Z',  R(phi)_ij = phi^|occ_i - occ_j| within a Subject,
#   G = s s' * rho^|k - l| over the 5 levels of occf, sigma^2 profiled,
#   REML: -2 l = (n - p)(1 + log(2 pi r'V^-1 r / (n - p))) + log|V/sigma^2| + log|X'V^-1 X|,
#   ML:   -2 l = n (1 + log(2 pi r'V^-1 r / n)) + log|V/sigma^2|,
# maximized over (log s, atanh rho, atanh phi) by nlminb then BFGS from 6 starts (4 fixed, among
# them the sigma -> 0 region and the phi -> 1 region, 2 random), and also with phi held at the
# edges +1 and -1 exactly (R(1) = 1 1': a random intercept of variance sigma^2 beside the ARH(1)
# term; R(-1) its alternating analogue), where V stays positive definite. Reported per fit: the
# limit GLS (nlme gls corAR1 + varIdent, the sigma -> 0 limit), the best interior optimum, the
# best at each edge, and the overall best with its parameters and beta, in rar1_<key>.json.
# Used by tests/test_residual_limit_dense.py and (seed 2) tests/test_residual_edge_report.py.
# Run from the repository root (keys: seed1_ML seed2_REML seed2_ML, default all):
#   Rscript tests/reference/cov_rar1_limit/make_rar1_edges.R [key ...]
source("tests/reference/cov_rar1_limit/rar1_dense_criterion.R")  # rar1_fit_one
fit_one <- rar1_fit_one
base <- "tests/reference/cov_rar1_limit/"
files <- c(seed1_ML = "rar1_limit.csv", seed2_REML = "rar1_seed2.csv", seed2_ML = "rar1_seed2.csv")
keys <- commandArgs(trailingOnly = TRUE)
if (length(keys) == 0) keys <- names(files)
for (k in keys) {
  f <- fit_one(paste0(base, files[[k]]), grepl("REML", k))
  cat(k, ": limit GLS", f$limit_gls_loglik, " interior", f$interior_loglik, " phi", f$interior_phi,
      " edge +1", f$edge_plus1_loglik, " edge -1", f$edge_minus1_loglik, "\n")
  write_json(f, paste0(base, "rar1_", k, ".json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
}
