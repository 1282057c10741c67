# A finding of session 9 (lane conv), for the lead: NOT used by any test.
# tests/test_residual_limit_exact.py::test_correlated_residual_structure_reaches_the_limit_with_nan_df
# asserts that height ~ age + ar1(0 + occf | Subject, hom=False) with residual=mf.AR1("occ", "Subject")
# (REML, Oxboys with rows missing) has its supremum at the sigma -> 0 limit, loglik -304.586742201364
# (tests/reference/cov_rlimit/rlimit.json, grp_REML). The model's REML criterion written densely here
# (V = Z G Z' + sigma^2 R(phi), G the heterogeneous AR(1) over occasion levels, R(phi) = phi^|occ_i - occ_j|,
# sigma^2 profiled) is higher at an interior point: -301.4826 at s/sigma = (0.812 ... 1.355),
# rho = 0.99415, phi = 0.99961 (sigma = 6.05), found by mixedfit's unbounded-coordinate optimizer
# (engine/crawl.py, which this branch keeps off the residual path: ridge=False) and confirmed by
# optim BFGS + nlminb here from that point. Output (R 4.2.2):
#   at mixedfit's point: -301.4826
#   optim BFGS: -301.4826  nlminb: -301.4826
#   par: 0.8120863 0.8513143 0.8617749 0.9119025 0.9921302 1.018022 1.175131 1.282777 1.354654 0.9941499 0.9996121
# Since session 12 (the shared criterion, Subjects in numeric order) the same loglik (-301.4826) at
#   par: 0.8120728 0.8513018 0.861761 0.9118889 0.9921161 1.018007 1.175116 1.28276 1.354636 0.9941497 0.9996121
# (the optimum is flat along the s's: 1.7e-5 relative, from sums in another order).
# Run from the repository root: Rscript tests/reference/cov_ri_arh/residual_ar1_interior.R
d <- read.csv("tests/reference/cov_oxboys/oxboys_miss.csv", stringsAsFactors = FALSE)
# crit: rar1_crit / rar1_devb of tests/reference/cov_rar1_limit/rar1_dense_criterion.R (q = 9;
# source()d from the repository root, as this script is run; until session 12 this script held its
# own copy, with Subjects blocked in character order: sums in another order, the same numbers to
# rounding)
source("tests/reference/cov_rar1_limit/rar1_dense_criterion.R")  # rar1_devb, rar1_crit
crit <- rar1_crit(rar1_devb(d, reml = TRUE, y = d$height, X = cbind(1, d$age)), q = 9)
th <- c(0.81165084, 0.85085976, 0.86133126, 0.91144949, 0.99168252, 1.01757173, 1.17467779, 1.2823303, 1.35420238)
st <- c(log(th), atanh(0.99415265), atanh(0.999606))
cat("at mixedfit's point:", -crit(st) / 2, "\n")
a <- optim(st, crit, method = "BFGS", control = list(maxit = 5000, reltol = 1e-15))
b <- nlminb(a$par, crit, control = list(eval.max = 5000, iter.max = 3000, rel.tol = 1e-15))
cat("optim BFGS:", -a$value / 2, " nlminb:", -b$objective / 2, "\n")
cat("par:", exp(b$par[1:9]), tanh(b$par[10:11]), "\n")
