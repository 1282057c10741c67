# Dense Kenward-Roger (REML) by mmrm's formulas (notes/covariance-research.md section 3; verified
# there against mmrm's own KR on fev us to 1.5e-8), no mixedfit code:
#   Phi_A = Phi + 2 Phi [sum_hj W_hj (Q_hj - P_h Phi P_j - R_hj / 4)] Phi,
#   W = solve(numDeriv Hessian of the REML -loglik in tau), R_hj from numDeriv second
#   derivatives of each subject's V(tau), df of one coefficient = 2 (l'Phi l)^2 / (g'Wg).
# kr_dense(S_of, idx, tau, Xs, ys, method.args = list(), return_W = FALSE): method.args go to every
# numDeriv call (default: numDeriv's own); return_W returns W in place of tau.
# Until session 12 this function lived in make_kr.R and its callers eval()ed those lines (and
# ../cov_probe/kr_ri_ar14.R held a copy, kr_abs); now sourced by make_kr.R,
# ../cov_exact_stratum/kr_tiny.R, ../cov_kr_re_tiny/kr_re_tiny.R, ../cov_probe/kr_ri_ar14.R
# (run in their own directory: source("../cov_kr/kr_dense.R")) and
# ../cov_varident_reference/vanished_reference_kr.R (run from the repository root:
# source("tests/reference/cov_kr/kr_dense.R")).
suppressMessages(library(numDeriv))

# S_of(tau) returns a base covariance matrix; subject i's block is S[idx[[i]], idx[[i]]]
kr_dense <- function(S_of, idx, tau, Xs, ys, method.args = list(), return_W = FALSE) {
  k <- length(tau); p <- ncol(Xs[[1]]); N <- sum(sapply(ys, length)); nb <- length(idx)
  V_of <- function(t) { S <- S_of(t); lapply(idx, function(v) S[v, v, drop = FALSE]) }
  negll <- function(t) { Vs <- V_of(t); A <- matrix(0, p, p); b <- rep(0, p); yy <- 0; ld <- 0
    for (i in seq_along(Vs)) { C <- chol(Vs[[i]]); Xi <- backsolve(C, Xs[[i]], transpose = TRUE)
      yi <- backsolve(C, ys[[i]], transpose = TRUE); A <- A + crossprod(Xi); b <- b + crossprod(Xi, yi)
      yy <- yy + sum(yi^2); ld <- ld + 2 * sum(log(diag(C))) }
    beta <- solve(A, b); 0.5 * ((N - p) * log(2 * pi) + ld + as.numeric(determinant(A)$modulus) + yy - sum(b * beta)) }
  W <- solve(hessian(negll, tau, method.args = method.args))
  S <- S_of(tau); ms <- nrow(S)
  dS <- jacobian(function(t) as.vector(S_of(t)), tau, method.args = method.args)
  d2S <- lapply(seq_len(ms * ms), function(e) hessian(function(t) as.vector(S_of(t))[e], tau, method.args = method.args))
  Pm <- replicate(k, matrix(0, p, p), simplify = FALSE); Qm <- Rm <- matrix(list(matrix(0, p, p)), k, k)
  Ainv <- matrix(0, p, p)
  for (i in seq_len(nb)) { v <- idx[[i]]; Si <- solve(S[v, v, drop = FALSE]); A <- Si %*% Xs[[i]]
    Ainv <- Ainv + t(Xs[[i]]) %*% A
    dV <- lapply(1:k, function(h) matrix(dS[, h], ms, ms)[v, v, drop = FALSE])
    for (h in 1:k) Pm[[h]] <- Pm[[h]] - t(A) %*% dV[[h]] %*% A
    for (h in 1:k) for (j in 1:k) {
      Qm[[h, j]] <- Qm[[h, j]] + t(A) %*% dV[[h]] %*% Si %*% dV[[j]] %*% A
      d2hj <- matrix(sapply(seq_len(ms * ms), function(e) d2S[[e]][h, j]), ms, ms)[v, v, drop = FALSE]
      Rm[[h, j]] <- Rm[[h, j]] + t(A) %*% d2hj %*% A } }
  Phi <- solve(Ainv); M <- matrix(0, p, p)
  for (h in 1:k) for (j in 1:k) M <- M + W[h, j] * (Qm[[h, j]] - Pm[[h]] %*% Phi %*% Pm[[j]] - 0.25 * Rm[[h, j]])
  PhiA <- Phi + 2 * Phi %*% M %*% Phi
  df <- sapply(1:p, function(c) { g <- sapply(1:k, function(h) -(Phi %*% Pm[[h]] %*% Phi)[c, c]); 2 * Phi[c, c]^2 / drop(t(g) %*% W %*% g) })
  if (return_W) return(list(se = sqrt(diag(Phi)), se_kr = sqrt(diag(PhiA)), df = df, W = W))
  list(se = sqrt(diag(Phi)), se_kr = sqrt(diag(PhiA)), df = df, tau = tau)
}
