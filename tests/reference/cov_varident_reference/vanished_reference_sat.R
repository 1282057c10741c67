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
suppressMessages({library(jsonlite); library(numDeriv)})
here <- "tests/reference/cov_varident_reference"
d <- read.csv(file.path(here, "vanished_reference.csv"), stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C"))
X <- model.matrix(~ stratum, d); y <- d$y; n <- length(y); p <- ncol(X)
blocks <- split(seq_len(n), d$subject)
deltas <- function(psi) c(A = 0, B = 1, C = exp(psi[3]))
pieces <- function(psi) {
  XtVX <- 0; XtVy <- 0; ld <- 0; yVy <- 0
  dl <- deltas(psi)
  for (rows in blocks) {
    s <- dl[as.character(d$stratum[rows])]
    V <- exp(2 * psi[2]) + diag(exp(2 * psi[1]) * s^2, length(rows))
    U <- chol(V)
    Xw <- backsolve(U, X[rows, , drop = FALSE], transpose = TRUE)
    yw <- backsolve(U, y[rows], transpose = TRUE)
    XtVX <- XtVX + crossprod(Xw); XtVy <- XtVy + crossprod(Xw, yw)
    yVy <- yVy + sum(yw^2); ld <- ld + 2 * sum(log(diag(U)))
  }
  list(XtVX = XtVX, XtVy = XtVy, yVy = yVy, ld = ld)
}
out <- list()
for (method in c("reml", "ml")) {
  reml <- method == "reml"
  dev <- function(psi) {
    s <- pieces(psi)
    r2 <- s$yVy - sum(s$XtVy * solve(s$XtVX, s$XtVy))
    s$ld + r2 + (if (reml) as.numeric(determinant(s$XtVX)$modulus) + (n - p) * log(2 * pi)
                 else n * log(2 * pi))
  }
  vcov <- function(psi) solve(pieces(psi)$XtVX)
  opt <- nlminb(c(0, 0, 1), dev, control = list(rel.tol = 1e-15, x.tol = 1e-12,
                                                eval.max = 5000, iter.max = 5000))
  psi <- opt$par
  H <- hessian(dev, psi, method.args = list(d = 0.1))
  A <- 2 * solve(H)
  J <- jacobian(function(psi) as.vector(vcov(psi)), psi, method.args = list(d = 0.1))
  V0 <- vcov(psi)
  df <- sapply(seq_len(p), function(j) {
    l <- numeric(p); l[j] <- 1
    g <- sapply(seq_along(psi), function(k) sum(l * (matrix(J[, k], p, p) %*% l)))
    2 * sum(l * (V0 %*% l))^2 / sum(g * (A %*% g))
  })
  beta <- solve(pieces(psi)$XtVX, pieces(psi)$XtVy)
  out[[method]] <- list(loglik = -opt$objective / 2, sigma_B = exp(psi[1]), tau = exp(psi[2]),
                        delta_C = exp(psi[3]), terms = colnames(X), beta = as.vector(beta),
                        se = sqrt(diag(V0)), df = df)
}
write_json(out, file.path(here, "vanished_reference_sat.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
print(out)
