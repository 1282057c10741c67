# Satterthwaite df of van2.csv's fit y ~ stratum + x + (1|subject), VarIdent(stratum) REML at its
# supremum, where stratum C's residual variance is 0 (review rv9 MEDIUM-1), for
# tests/test_varident_vanished_df.py. Not expressible in nlme (varIdent's fixed ratios must be > 0),
# so computed densely: V_i = tau^2 J + sigma^2 diag(delta_stratum^2) per subject with delta_C = 0
# (one C row per subject: V_i stays positive definite), psi = (log sigma, log tau, log delta_B,
# log delta_D, log delta_E) (A the reference), the unprofiled REML deviance minimized by nlminb, its
# Hessian and the Jacobian of Var(beta) by numDeriv, df = 2 Var^2 / (g' (2 H^-1) g) as in
# tests/reference/limit_df/make_limit_df.R. Run from the repository root:
#   Rscript tests/reference/cov_probe/van2_sat.R
# van2.csv was made by /tmp/p9/rv9/make_sims.py (van2(seed=11)), a copy is make_van2.py here.
suppressMessages(library(jsonlite))
d <- read.csv("tests/reference/cov_probe/van2.csv")
d$stratum <- factor(d$stratum)
X <- model.matrix(~ stratum + x, d); y <- d$y; n <- length(y); p <- ncol(X)
deltas <- function(psi) c(A = 1, B = exp(psi[3]), C = 0, D = exp(psi[4]), E = exp(psi[5]))
Vfun <- function(psi, rows) {
  s <- deltas(psi)[as.character(d$stratum[rows])]
  exp(2 * psi[2]) + diag(exp(2 * psi[1]) * s^2, length(rows))
}
# the deviance, its minimum and the df: sat_fit of tests/reference/limit_df/sat_dense.R (source()d
# from the repository root, as this script is run; until session 12 this script held its own copy)
source("tests/reference/limit_df/sat_dense.R")  # sat_fit
f <- sat_fit(X, y, d$subject, Vfun, c(0, 0, 0, 0, 0))
opt <- f$opt; psi <- f$psi; beta <- f$beta; V0 <- f$vcov; df <- f$df
out <- list(deviance = opt$objective, sigma = exp(psi[1]), tau = exp(psi[2]),
            deltas = as.list(deltas(psi)), terms = colnames(X), beta = as.vector(beta),
            se = sqrt(diag(V0)), df = df)
write_json(out, "tests/reference/cov_probe/van2_sat.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
print(out)
