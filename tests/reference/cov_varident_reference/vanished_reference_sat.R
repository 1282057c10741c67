# Satterthwaite df of vanished_reference.csv's fit y ~ stratum + (1|subject), VarIdent(stratum),
# REML and ML, at the supremum where stratum A's residual variance is 0: A is nlme's reference
# when its rows come first (sigma -> 0, the other ratios -> Inf), for
# tests/test_varident_reference_df.py. As van2_sat.R (tests/reference/cov_probe): computed densely
# with V_i = tau^2 J + diag(v_stratum) per subject, v_A = 0 exactly (one A row per subject: V_i
# stays positive definite), psi = (log sigma_B, log tau, log delta_C) (B the reference: the
# parameterization does not change the df), the unprofiled REML / ML deviance minimized by nlminb,
# its Hessian and the Jacobian of Var(beta) by numDeriv, df = 2 Var^2 / (g' (2 H^-1) g).
# Run from the repository root:
#   Rscript tests/reference/cov_varident_reference/vanished_reference_sat.R
suppressMessages(library(jsonlite))
here <- "tests/reference/cov_varident_reference"
d <- read.csv(file.path(here, "vanished_reference.csv"), stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C"))
X <- model.matrix(~ stratum, d); y <- d$y; n <- length(y); p <- ncol(X)
deltas <- function(psi) c(A = 0, B = 1, C = exp(psi[3]))
Vfun <- function(psi, rows) {
  s <- deltas(psi)[as.character(d$stratum[rows])]
  exp(2 * psi[2]) + diag(exp(2 * psi[1]) * s^2, length(rows))
}
# the deviance, its minimum and the df: sat_fit of tests/reference/limit_df/sat_dense.R (source()d
# from the repository root, as this script is run; until session 12 this script held its own copy,
# whose REML deviance added the same terms in another order: equal to rounding)
source("tests/reference/limit_df/sat_dense.R")  # sat_fit
out <- list()
for (method in c("reml", "ml")) {
  f <- sat_fit(X, y, d$subject, Vfun, c(0, 0, 1), reml = method == "reml")
  psi <- f$psi
  out[[method]] <- list(loglik = -f$opt$objective / 2, sigma_B = exp(psi[1]), tau = exp(psi[2]),
                        delta_C = exp(psi[3]), terms = colnames(X), beta = f$beta,
                        se = sqrt(diag(f$vcov)), df = f$df)
}
write_json(out, file.path(here, "vanished_reference_sat.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
print(out)
