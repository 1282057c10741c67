# Satterthwaite df of data C's ML fit (g3_C.csv; y ~ x + ar1(0 + occf | Subject) with residual
# AR1("occ", "Subject") & VarIdent("grp")) at its supremum, where stratum b's residual variance is
# exactly 0 (review rv17 finding 4; g3_C_ML.json: b on a flat tail, 1.6e-3 of a): the df with b held
# at its boundary, as lme4 drops a theta on its bound (review rv19 LOW-2), for
# tests/test_varident_vanished_verdict.py. Dense, without mixedfit: per subject
# V = sigma^2 (s^2 rho^|k-k'| + D R_phi D), D = diag(delta_grp), delta_a = 1, delta_b = 0, free
# psi = (log sigma, log s, atanh rho, atanh phi, log delta_c); the unprofiled ML deviance minimized
# by nlminb and the df by sat_fit of the shared tests/reference/limit_df/sat_dense.R. Run from the
# repository root:  Rscript tests/reference/cov_vi_reference_tail/g3_C_sat.R
suppressMessages(library(jsonlite))
source("tests/reference/limit_df/sat_dense.R")  # sat_fit
d <- read.csv("tests/reference/cov_vi_reference_tail/g3_C.csv", stringsAsFactors = FALSE)
X <- cbind("(Intercept)" = 1, x = d$x); y <- d$y
deltas <- function(psi) c(a = 1, b = 0, c = exp(psi[5]))
Vfun <- function(psi, rows) {
  k <- d$occ[rows]; lag <- abs(outer(k, k, "-"))
  r <- deltas(psi)[d$grp[rows]]
  exp(2 * psi[1]) * (exp(2 * psi[2]) * tanh(psi[3])^lag + outer(r, r) * tanh(psi[4])^lag)
}
start <- c(0, log(1.5), atanh(0.61), atanh(-0.056), -0.27)
f <- sat_fit(X, y, d$Subject, Vfun, start, reml = FALSE)
psi <- f$psi
out <- list(loglik = -f$opt$objective / 2, convergence = f$opt$convergence, message = f$opt$message, sigma = exp(psi[1]),
            sd_rel = exp(psi[2]), rho = tanh(psi[3]), phi = tanh(psi[4]),
            deltas = as.list(deltas(psi)), terms = colnames(X), beta = f$beta,
            se = sqrt(diag(f$vcov)), df = f$df)
write_json(out, "tests/reference/cov_vi_reference_tail/g3_C_sat.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
print(out)
