# The dense REML deviance of tiny_sat.R and tiny_sat_gls.R (this directory; both held a copy until
# session 12), no mixedfit code: y ~ stratum + x [+ (1|subject)], AR1(t, subject) & VarIdent(stratum)
# (or VarIdent only), per subject V = tau^2 J + S R(phi) S, S = diag(sigma_A delta_stratum).
# tiny_sat_model(d, ar, with_tau): psi = (log sigma_A, [log tau,] log dB, log dC, log dD[, atanh phi])
# (with_tau = FALSE: no random intercept, tau^2 J replaced by 0); returns X, p, dev(psi) (the
# unprofiled REML deviance from Householder QR of the per-subject whitened [X y]; 1e10 where a V is
# not positive definite) and vcov(psi) = (X'V^-1 X)^-1.
tiny_sat_model <- function(d, ar, with_tau) {
  X <- model.matrix(~ stratum + x, d); y <- d$y; n <- length(y); p <- ncol(X); blocks <- split(seq_len(n), d$subject)
  whiten <- function(psi) {
    if (!with_tau) psi <- c(psi[1], 0, psi[-1])
    sg <- exp(psi[1]); tau <- exp(psi[2]); dl <- c(1, exp(psi[3:5])); phi <- if (ar) tanh(psi[6]) else 0
    W <- matrix(0, n, p + 1); ld <- 0; i <- 0
    for (g in blocks) { s <- sg * dl[as.integer(d$stratum[g])]; tt <- d$t[g]
      V <- (if (with_tau) tau^2 else 0 * tau^2) + outer(s, s) * phi^abs(outer(tt, tt, "-"))
      U <- tryCatch(chol(V), error = function(e) NULL); if (is.null(U)) return(NULL); W[i + seq_along(g), ] <- backsolve(U, cbind(X[g, , drop = FALSE], y[g]), transpose = TRUE)
      ld <- ld + 2 * sum(log(diag(U))); i <- i + length(g) }
    list(R = qr.R(qr(W)), ld = ld) }
  dev <- function(psi) { w <- whiten(psi); if (is.null(w)) return(1e10); dg <- diag(w$R)
    w$ld + 2 * sum(log(abs(dg[1:p]))) + dg[p + 1]^2 + (n - p) * log(2 * pi) }
  vcov <- function(psi) chol2inv(whiten(psi)$R[1:p, 1:p])
  list(X = X, p = p, dev = dev, vcov = vcov)
}
