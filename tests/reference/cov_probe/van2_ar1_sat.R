# Satterthwaite df of van2.csv's fit y ~ stratum + x + (1|subject) with residual
# AR(1) in the stratum's position within subject & VarIdent(stratum), REML at its supremum, where
# stratum C's residual variance is 0 (lane tiny2, issue 12), for tests/test_varident_vanished_df.py.
# Not expressible in nlme (varIdent's ratios must be > 0), so computed densely as van2_sat.R:
# V_i = tau^2 J + sigma^2 S R(rho) S per subject, S = diag(delta_stratum), delta_A = 1, delta_C = 0
# (V_i stays positive definite through tau^2), psi = (log sigma, log tau, atanh rho, log delta_B,
# log delta_D, log delta_E), the unprofiled REML deviance minimized by nlminb, its Hessian and the
# Jacobian of Var(beta) by numDeriv, df = 2 Var^2 / (g' (2 H^-1) g) (the df do not depend on the
# parameterization at the optimum). Run from the repository root:
#   Rscript tests/reference/cov_probe/van2_ar1_sat.R
suppressMessages(library(jsonlite))
d <- read.csv("tests/reference/cov_probe/van2.csv")
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D", "E"))
d <- d[order(d$subject, d$stratum), ]  # every subject has one row of each stratum, A to E
X <- model.matrix(~ stratum + x, d); y <- d$y; n <- length(y); p <- ncol(X)
for (rows in split(seq_len(n), d$subject))  # every subject's block is the same V
  stopifnot(identical(as.character(d$stratum[rows]), LETTERS[1:5]))
H5 <- abs(outer(1:5, 1:5, "-"))
deltas <- function(psi) c(A = 1, B = exp(psi[4]), C = 0, D = exp(psi[5]), E = exp(psi[6]))
Vfun <- function(psi, rows) {
  s <- deltas(psi)
  exp(2 * psi[2]) + exp(2 * psi[1]) * outer(s, s) * tanh(psi[3])^H5
}
# the deviance, its minimum and the df: sat_fit of tests/reference/limit_df/sat_dense.R (source()d
# from the repository root, as this script is run; until session 12 this script held its own copy)
source("tests/reference/limit_df/sat_dense.R")  # sat_fit
f <- sat_fit(X, y, d$subject, Vfun, c(0, 0, 0.1, 0, 0, 0))
opt <- f$opt; psi <- f$psi; beta <- f$beta; V0 <- f$vcov; df <- f$df; H <- f$H
out <- list(deviance = opt$objective, loglik = -opt$objective / 2, sigma = exp(psi[1]),
            tau = exp(psi[2]), rho = tanh(psi[3]), deltas = as.list(deltas(psi)),
            terms = colnames(X), beta = as.vector(beta), se = sqrt(diag(V0)), df = df,
            hessian_eigen = eigen(H, only.values = TRUE)$values)
write_json(out, "tests/reference/cov_probe/van2_ar1_sat.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
print(out)
