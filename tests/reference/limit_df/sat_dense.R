# Satterthwaite df of a GLS / marginal model with block-diagonal V(psi), from first principles (as
# lmerTest does for lmer fits; lmerTest cannot do gls or a variance held at 0), no mixedfit code:
#   d(psi) = log|V| + log|X'V^-1 X| + r'V^-1 r + (n - p) log(2 pi)   (REML, unprofiled),
#   d(psi) = log|V| + r'V^-1 r + n log(2 pi)                         (ML),
# minimized by nlminb from a start; at the minimum numDeriv (Richardson, step d) gives the Hessian H
# and the Jacobian of Var(beta)(psi) = (X'V^-1 X)^-1, and for each coefficient
#   df = 2 Var^2 / (g' (2 H^-1) g),  g = d Var(beta)_jj / d psi.
# The df do not depend on the parameterization of psi at the optimum.
# Sourced by (session 12; each held its own copy before):
#   make_limit_df.R (this directory; sat_df), ../cov_probe/van2_sat.R, ../cov_probe/van2_ar1_sat.R,
#   ../cov_varident_reference/vanished_reference_sat.R (sat_fit), all run from the repository root:
#   source("tests/reference/limit_df/sat_dense.R"); and ../cov_probe/tiny_sat.R, tiny_sat_gls.R,
#   ../limit_crossed/limit_crossed.R, oxboys_grp.R (sat_df_at with their own dense deviance; run in
#   their directory: source("../limit_df/sat_dense.R")).
suppressMessages(library(numDeriv))

# pieces(psi): X'V^-1 X, X'V^-1 y, y'V^-1 y and log|V| summed over blocks (lists of row indices);
# Vfun(psi, rows) -> the covariance block of those rows (in their order in the data)
sat_pieces <- function(X, y, blocks, Vfun) {
  function(psi) {
    XtVX <- 0; XtVy <- 0; ld <- 0; yVy <- 0
    for (rows in blocks) {
      V <- Vfun(psi, rows); U <- chol(V)
      Xw <- backsolve(U, X[rows, , drop = FALSE], transpose = TRUE)
      yw <- backsolve(U, y[rows], transpose = TRUE)
      XtVX <- XtVX + crossprod(Xw); XtVy <- XtVy + crossprod(Xw, yw)
      yVy <- yVy + sum(yw^2); ld <- ld + 2 * sum(log(diag(U)))
    }
    list(XtVX = XtVX, XtVy = XtVy, yVy = yVy, ld = ld)
  }
}

# the unprofiled -2 log-likelihood (REML or ML) of pieces
sat_deviance <- function(pieces, n, p, reml = TRUE) {
  function(psi) {
    s <- pieces(psi)
    r2 <- s$yVy - sum(s$XtVy * solve(s$XtVX, s$XtVy))
    if (reml) {
      s$ld + as.numeric(determinant(s$XtVX)$modulus) + r2 + (n - p) * log(2 * pi)
    } else {
      s$ld + r2 + n * log(2 * pi)
    }
  }
}

# the Satterthwaite df of every coefficient at psi (dev's minimum), numDeriv's method.args (default:
# relative step d = step); returns df, H (the Hessian of dev) and vcov (Var(beta) at psi)
sat_df_at <- function(dev, vcov, psi, step = 0.1, method.args = list(d = step)) {
  H <- hessian(dev, psi, method.args = method.args)
  A <- 2 * solve(H)
  J <- jacobian(function(psi) as.vector(vcov(psi)), psi, method.args = method.args)
  V0 <- vcov(psi); p <- nrow(V0)
  df <- sapply(seq_len(p), function(j) {
    l <- numeric(p); l[j] <- 1
    g <- sapply(seq_along(psi), function(k) sum(l * (matrix(J[, k], p, p) %*% l)))
    2 * sum(l * (V0 %*% l))^2 / sum(g * (A %*% g))
  })
  list(df = df, H = H, vcov = V0)
}

# the whole: blocks = split(rows, groups), dev minimized by nlminb from start, then the df there.
# Returns opt (nlminb's), psi, start_deviance, beta, df, H and vcov (Var(beta) at psi).
sat_fit <- function(X, y, groups, Vfun, start, reml = TRUE, step = 0.1) {
  blocks <- split(seq_along(y), groups)
  pieces <- sat_pieces(X, y, blocks, Vfun)
  dev <- sat_deviance(pieces, length(y), ncol(X), reml)
  vcov <- function(psi) solve(pieces(psi)$XtVX)
  opt <- nlminb(start, dev, control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000,
                                           iter.max = 5000))
  psi <- opt$par
  P <- pieces(psi)
  c(list(opt = opt, psi = psi, start_deviance = dev(start),
         beta = as.vector(solve(P$XtVX, P$XtVy))),
    sat_df_at(dev, vcov, psi, step))
}
