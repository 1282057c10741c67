# Issue 12, session 10 lane rlim2: seed 0 of make_rar1_limit_data.py (rar1_seed0.csv), the same
# model as make_rar1_limit.R,
#   mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", rar1_seed0.csv,
#           residual=mf.AR1("occ", "Subject")),
# whose REML maximum is INTERIOR (mixedfit of session 9 moved the fit to the sigma -> 0 limit,
# 1.17 log-likelihood units lower). The model's own REML criterion written densely (no mixedfit
# code; make_rar1_limit.R's devb), maximized over (log s, atanh rho, atanh phi) by optim (BFGS,
# Nelder-Mead then BFGS) and nlminb from 10 starts; the best is reported with its parameters and
# beta (GLS at the optimum), and the limit GLS (nlme) for comparison.
# Used by tests/test_residual_limit_exact.py::test_correlated_residual_interior_beats_the_limit.
# Run from the repository root: Rscript tests/reference/cov_rar1_limit/make_rar1_seed0.R
source("tests/reference/cov_rar1_limit/rar1_dense_criterion.R")  # rar1_devb, rar1_crit
d <- read.csv("tests/reference/cov_rar1_limit/rar1_seed0.csv", stringsAsFactors = FALSE)
devb <- rar1_devb(d, reml = TRUE)
crit <- rar1_crit(devb)
g <- rar1_limit_gls(d, reml = TRUE)
set.seed(9)
starts <- list(c(rep(0, 5), atanh(0.5), atanh(0.5)),
               c(log(c(1, 0.05, 1, 0.05, 1) * 20), atanh(0.6), atanh(0.3)),
               c(log(c(1, 0.05, 1, 0.05, 1) * 100), atanh(0.6), atanh(0.9)),
               c(rep(1, 5), atanh(0.9), atanh(0.1)))
for (i in 1:6) starts[[length(starts) + 1]] <- c(rnorm(5, 2, 1.5), rnorm(2, 0, 1))
best <- list(value = Inf)
for (st in starts) {
  o1 <- optim(st, crit, method = "BFGS", control = list(maxit = 5000, reltol = 1e-14))
  o2 <- optim(optim(st, crit, control = list(maxit = 20000))$par, crit, method = "BFGS",
              control = list(maxit = 5000, reltol = 1e-14))
  o3 <- nlminb(st, crit, control = list(iter.max = 5000, eval.max = 10000, rel.tol = 1e-14))
  for (o in list(list(par = o1$par, value = o1$value), list(par = o2$par, value = o2$value),
                 list(par = o3$par, value = o3$objective)))
    if (o$value < best$value) best <- o
}
# polished: BFGS once more from the best point
o <- optim(best$par, crit, method = "BFGS", control = list(maxit = 5000, reltol = 1e-16))
if (o$value < best$value) best <- list(par = o$par, value = o$value)
s <- exp(best$par[1:5]); rho <- tanh(best$par[6]); phi <- tanh(best$par[7])
out <- list(
  loglik = -best$value / 2,
  s = s, rho = rho, phi = phi,
  beta = devb(s, rho, phi, beta_only = TRUE),
  limit_gls_loglik = as.numeric(logLik(g))
)
stopifnot(out$loglik > out$limit_gls_loglik + 1)
cat("interior", out$loglik, " limit GLS", out$limit_gls_loglik, "\n")
print(out)
write_json(out, "tests/reference/cov_rar1_limit/rar1_seed0.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
