# Dense Satterthwaite df for vref.csv: y ~ stratum + x + (1|subject), VarIdent(stratum), stratum A's
# residual variance exactly 0 (the supremum), psi = (log sigma_B, log tau, log dC, log dD), as
# tests/reference/cov_varident_reference/vanished_reference_sat.R (numDeriv Hessian / Jacobian).
suppressMessages({library(jsonlite); library(numDeriv)})
d <- read.csv("/tmp/p10/rv10/data/vref.csv", stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
X <- model.matrix(~ stratum + x, d); y <- d$y; n <- length(y); p <- ncol(X)
blocks <- split(seq_len(n), d$subject)
deltas <- function(psi) c(A = 0, B = 1, C = exp(psi[3]), D = exp(psi[4]))
pieces <- function(psi) {
  XtVX <- 0; XtVy <- 0; ld <- 0; yVy <- 0; dl <- deltas(psi)
  for (rows in blocks) {
    s <- dl[as.character(d$stratum[rows])]
    V <- exp(2 * psi[2]) + diag(exp(2 * psi[1]) * s^2, length(rows))
    U <- chol(V)
    Xw <- backsolve(U, X[rows, , drop = FALSE], transpose = TRUE); yw <- backsolve(U, y[rows], transpose = TRUE)
    XtVX <- XtVX + crossprod(Xw); XtVy <- XtVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2); ld <- ld + 2 * sum(log(diag(U)))
  }
  list(XtVX = XtVX, XtVy = XtVy, yVy = yVy, ld = ld)
}
out <- list()
for (method in c("reml", "ml")) {
  reml <- method == "reml"
  dev <- function(psi) { s <- pieces(psi); r2 <- s$yVy - sum(s$XtVy * solve(s$XtVX, s$XtVy))
    s$ld + r2 + (if (reml) as.numeric(determinant(s$XtVX)$modulus) + (n - p) * log(2 * pi) else n * log(2 * pi)) }
  vcov <- function(psi) solve(pieces(psi)$XtVX)
  opt <- nlminb(c(0, 0, 0.5, -0.5), dev, control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000, iter.max = 5000))
  psi <- opt$par
  H <- hessian(dev, psi, method.args = list(d = 0.1)); A <- 2 * solve(H)
  J <- jacobian(function(psi) as.vector(vcov(psi)), psi, method.args = list(d = 0.1)); V0 <- vcov(psi)
  df <- sapply(seq_len(p), function(j) { l <- numeric(p); l[j] <- 1
    g <- sapply(seq_along(psi), function(k) sum(l * (matrix(J[, k], p, p) %*% l))); 2 * sum(l * (V0 %*% l))^2 / sum(g * (A %*% g)) })
  out[[method]] <- list(loglik = -opt$objective / 2, sigma_B = exp(psi[1]), tau = exp(psi[2]), dC = exp(psi[3]), dD = exp(psi[4]),
                        terms = colnames(X), beta = as.vector(solve(pieces(psi)$XtVX, pieces(psi)$XtVy)), se = sqrt(diag(V0)), df = df)
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "/tmp/p10/rv10/vref_sat.json"); print(out)
