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
suppressMessages({library(jsonlite); library(numDeriv)})
d <- read.csv("tests/reference/cov_probe/van2.csv")
d$stratum <- factor(d$stratum)
X <- model.matrix(~ stratum + x, d); y <- d$y; n <- length(y); p <- ncol(X)
blocks <- split(seq_len(n), d$subject)
deltas <- function(psi) c(A = 1, B = exp(psi[3]), C = 0, D = exp(psi[4]), E = exp(psi[5]))
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
dev <- function(psi) {
  s <- pieces(psi)
  r2 <- s$yVy - sum(s$XtVy * solve(s$XtVX, s$XtVy))
  s$ld + as.numeric(determinant(s$XtVX)$modulus) + r2 + (n - p) * log(2 * pi)
}
vcov <- function(psi) solve(pieces(psi)$XtVX)
opt <- nlminb(c(0, 0, 0, 0, 0), dev, control = list(rel.tol = 1e-15, x.tol = 1e-12,
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
out <- list(deviance = opt$objective, sigma = exp(psi[1]), tau = exp(psi[2]),
            deltas = as.list(deltas(psi)), terms = colnames(X), beta = as.vector(beta),
            se = sqrt(diag(V0)), df = df)
write_json(out, "tests/reference/cov_probe/van2_sat.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
print(out)
