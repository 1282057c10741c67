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
suppressMessages({library(jsonlite); library(numDeriv)})
d <- read.csv("tests/reference/cov_probe/van2.csv")
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D", "E"))
d <- d[order(d$subject, d$stratum), ]  # every subject has one row of each stratum, A to E
X <- model.matrix(~ stratum + x, d); y <- d$y; n <- length(y); p <- ncol(X)
blocks <- split(seq_len(n), d$subject)
H5 <- abs(outer(1:5, 1:5, "-"))
deltas <- function(psi) c(A = 1, B = exp(psi[4]), C = 0, D = exp(psi[5]), E = exp(psi[6]))
pieces <- function(psi) {
  XtVX <- 0; XtVy <- 0; ld <- 0; yVy <- 0
  s <- deltas(psi)
  V <- exp(2 * psi[2]) + exp(2 * psi[1]) * outer(s, s) * tanh(psi[3])^H5
  U <- chol(V)
  for (rows in blocks) {
    stopifnot(identical(as.character(d$stratum[rows]), names(s)))
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
opt <- nlminb(c(0, 0, 0.1, 0, 0, 0), dev, control = list(rel.tol = 1e-15, x.tol = 1e-12,
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
out <- list(deviance = opt$objective, loglik = -opt$objective / 2, sigma = exp(psi[1]),
            tau = exp(psi[2]), rho = tanh(psi[3]), deltas = as.list(deltas(psi)),
            terms = colnames(X), beta = as.vector(beta), se = sqrt(diag(V0)), df = df,
            hessian_eigen = eigen(H, only.values = TRUE)$values)
write_json(out, "tests/reference/cov_probe/van2_ar1_sat.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
print(out)
