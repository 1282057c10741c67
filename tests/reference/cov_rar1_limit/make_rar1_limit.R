# Issue 12, session 9 lane rkr: a residual-AR(1) model whose REML supremum is the sigma -> 0 limit.
#   mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", rar1_limit.csv,
#           residual=mf.AR1("occ", "Subject"))
# rar1_limit.csv is simulated (numpy default_rng(1), make_rar1_limit_data.py; 30 subjects x 5 occasions,
# y = 1 + 0.5 x + e, e ~ N(0, D C D), C = 0.6^|j - k|, D = diag(1, 0.05, 1, 0.05, 1)): an
# exact ARH(1) with strongly heterogeneous sds, so a homogeneous AR(1) residual sigma^2 R(phi)
# added to the term only hurts (sigma^2 must stay below 0.05^2). The limit is the GLS
# gls(y ~ x, corAR1(~ occ | Subject), varIdent(~ 1 | occf), REML) (nlme below). The model's own
# REML criterion is written densely here (no mixedfit code), as make_rar1_interior.R:
#   V / sigma^2 = R(phi) + Z G Z',  R(phi)_ij = phi^|occ_i - occ_j| within a Subject,
#   G = s s' * rho^|k - l| over the 5 levels of occf, sigma^2 profiled,
#   -2 l = (n - p)(1 + log(2 pi r'V^-1 r / (n - p))) + log|V/sigma^2| + log|X'V^-1 X|,
# maximized over (log s, atanh rho, atanh phi) by optim (BFGS, Nelder-Mead then BFGS) and nlminb
# from interior starts: none exceeds the limit GLS (the supremum, approached as s -> infinity).
# Used by tests/test_residual_limit_dense.py::test_correlated_residual_limit_has_nan_df (was in test_residual_limit_exact.py).
# Run from the repository root: Rscript tests/reference/cov_rar1_limit/make_rar1_limit.R
source("tests/reference/cov_rar1_limit/rar1_dense_criterion.R")  # rar1_devb, rar1_crit
d <- read.csv("tests/reference/cov_rar1_limit/rar1_limit.csv", stringsAsFactors = FALSE)
devb <- rar1_devb(d, reml = TRUE)
crit <- rar1_crit(devb)
g <- rar1_limit_gls(d, reml = TRUE)
set.seed(9)
starts <- list(c(rep(0, 5), atanh(0.5), atanh(0.5)),
               c(log(c(1, 0.05, 1, 0.05, 1) * 20), atanh(0.6), atanh(0.3)),
               c(log(c(1, 0.05, 1, 0.05, 1) * 100), atanh(0.6), atanh(0.9)),
               c(rep(1, 5), atanh(0.9), atanh(0.1)))
for (i in 1:6) starts[[length(starts) + 1]] <- c(rnorm(5, 2, 1.5), rnorm(2, 0, 1))
best <- Inf
for (st in starts) {
  o1 <- optim(st, crit, method = "BFGS", control = list(maxit = 5000))
  o2 <- optim(optim(st, crit, control = list(maxit = 20000))$par, crit, method = "BFGS",
              control = list(maxit = 5000))
  o3 <- nlminb(st, crit, control = list(iter.max = 5000, eval.max = 10000))
  best <- min(best, o1$value, o2$value, o3$objective)
}
out <- list(
  loglik = as.numeric(logLik(g)),
  beta = as.list(coef(g)),
  se = as.list(sqrt(diag(vcov(g)))),
  best_optim_loglik = -best / 2
)
stopifnot(out$best_optim_loglik <= out$loglik + 1e-6)
cat("limit GLS", out$loglik, " best optim over the model", out$best_optim_loglik, "\n")
write_json(out, "tests/reference/cov_rar1_limit/rar1_limit.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
