# The dense criterion of the residual-AR(1) model of issue 12 (sessions 9-10, lanes rkr, rlim2,
# rlim3, reviewer rv10), shared by make_rar1_limit.R, make_rar1_seed0.R, make_rar1_edges.R and
# ../cov_rar1_edges/rar1_dense.R (each source()s this file; no mixedfit code):
#   mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=,
#           residual=mf.AR1("occ", "Subject"))
#   V / sigma^2 = R(phi) + Z G Z',  R(phi)_ij = phi^|occ_i - occ_j| within a Subject,
#   G = s s' * rho^|k - l| over the 5 levels of occf, sigma^2 profiled,
#   REML: -2 l = (n - p)(1 + log(2 pi r'V^-1 r / (n - p))) + log|V/sigma^2| + log|X'V^-1 X|,
#   ML:   -2 l = n (1 + log(2 pi r'V^-1 r / n)) + log|V/sigma^2|.
# rar1_devb(d, reml, y = d$y, X = cbind(1, d$x)) returns devb(s, rho, phi, beta_only = FALSE): -2 l
# (Inf where V or X'V^-1 X is not positive definite or r'V^-1 r <= 0), or beta (GLS at those
# parameters); d needs columns Subject and occ (integer 1..q, the index into s).
# rar1_crit(devb, q = 5) returns crit(par, phi = NULL) over (log s[1:q], atanh rho, atanh phi) (phi
# held when given), 1e10 where devb is not finite.
# Also sourced (since session 12) by ../cov_rar1_multi/rar1_dense.R, ../cov_rar1_edge3/rar1_dense_rv.R
# (rar1_fit_one; both held verbatim copies before), ../cov_rar1_interior/make_rar1_interior.R and
# ../cov_ri_arh/residual_ar1_interior.R (rar1_devb / rar1_crit with q = 9 on Oxboys: y = height,
# X = cbind(1, age)). Scripts run in their own directory source "../cov_rar1_limit/rar1_dense_criterion.R";
# those run from the repository root source "tests/reference/cov_rar1_limit/rar1_dense_criterion.R".
# rar1_fit_one(file, reml): the model maximized by nlminb then BFGS from 6 starts (4 fixed, among
# them the sigma -> 0 region and the phi -> 1 region, 2 random), and also with phi held at the
# edges +1 and -1 (R(1) = 1 1': a random intercept of variance sigma^2 beside the ARH(1) term;
# R(-1) its alternating analogue), where V stays positive definite. Reported: the limit GLS (nlme
# gls corAR1 + varIdent, the sigma -> 0 limit), the best interior optimum, the best at each
# edge, and the overall best with its parameters and beta.
library(jsonlite)
library(nlme)
rar1_devb <- function(d, reml = TRUE, y = d$y, X = cbind(1, d$x)) {
  n <- nrow(d); p <- ncol(X)
  rows <- split(seq_len(n), d$Subject)
  function(s, rho, phi, beta_only = FALSE) {
    XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0
    for (g in rows) {
      k <- d$occ[g]
      W <- phi^abs(outer(k, k, "-")) + outer(s[k], s[k]) * rho^abs(outer(k, k, "-"))
      C <- tryCatch(chol(W), error = function(e) NULL); if (is.null(C)) return(Inf)
      Xw <- backsolve(C, X[g, , drop = FALSE], transpose = TRUE)
      yw <- backsolve(C, y[g], transpose = TRUE)
      XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2)
      logdet <- logdet + 2 * sum(log(diag(C)))
    }
    beta <- tryCatch(solve(XVX, XVy), error = function(e) NULL)
    if (is.null(beta)) return(Inf)
    r2 <- yVy - sum(XVy * beta)
    if (!(r2 > 0)) return(Inf)
    if (beta_only) return(as.numeric(beta))
    if (reml) {
      (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet + as.numeric(determinant(XVX)$modulus)
    } else {
      n * (1 + log(2 * pi * r2 / n)) + logdet
    }
  }
}
rar1_crit <- function(devb, q = 5) {
  function(par, phi = NULL) {
    v <- devb(exp(par[1:q]), tanh(par[q + 1]), if (is.null(phi)) tanh(par[q + 2]) else phi)
    if (!is.finite(v)) 1e10 else v
  }
}
rar1_limit_gls <- function(d, reml = TRUE) {
  d$occf <- factor(d$occf)
  gls(y ~ x, d, correlation = corAR1(form = ~ occ | Subject),
      weights = varIdent(form = ~ 1 | occf), method = if (reml) "REML" else "ML")
}
rar1_fit_one <- function(file, reml) {
  d <- read.csv(file, stringsAsFactors = FALSE)
  devb <- rar1_devb(d, reml)
  crit <- rar1_crit(devb)
  g <- rar1_limit_gls(d, reml)
  set.seed(9)
  starts <- list(c(rep(0, 5), atanh(0.5), atanh(0.5)),
                 c(log(c(1, 0.05, 1, 0.05, 1) * 20), atanh(0.6), atanh(0.3)),
                 c(log(c(1, 0.05, 1, 0.05, 1) * 100), atanh(0.6), atanh(0.99)),
                 c(log(c(1, 0.05, 1, 0.05, 1) * 1000), atanh(0.6), atanh(0.5)))
  for (i in 1:2) starts[[length(starts) + 1]] <- c(rnorm(5, 2, 1.5), rnorm(2, 0, 1))
  best_of <- function(f, starts) {
    best <- list(value = Inf)
    for (st in starts) {
      o3 <- nlminb(st, f, control = list(iter.max = 3000, eval.max = 6000, rel.tol = 1e-14))
      o1 <- optim(o3$par, f, method = "BFGS", control = list(maxit = 3000, reltol = 1e-14))
      for (o in list(list(par = o1$par, value = o1$value), list(par = o3$par, value = o3$objective)))
        if (o$value < best$value) best <- o
    }
    o <- optim(best$par, f, method = "BFGS", control = list(maxit = 5000, reltol = 1e-16))
    if (o$value < best$value) best <- list(par = o$par, value = o$value)
    best
  }
  free <- best_of(crit, starts)
  edges <- lapply(c(1, -1), function(e)
    best_of(function(par) crit(par, e), lapply(starts, function(st) st[1:6])))
  cat(file, reml, ": interior", -free$value / 2, " edges", -edges[[1]]$value / 2,
      -edges[[2]]$value / 2, "\n")
  out <- list(
    reml = reml,
    limit_gls_loglik = as.numeric(logLik(g)),
    limit_gls_beta = as.numeric(coef(g)),
    interior_loglik = -free$value / 2,
    interior_s = exp(free$par[1:5]), interior_rho = tanh(free$par[6]),
    interior_phi = tanh(free$par[7]),
    edge_plus1_loglik = -edges[[1]]$value / 2,
    edge_minus1_loglik = -edges[[2]]$value / 2
  )
  cand <- list(list(par = free$par, phi = tanh(free$par[7]), value = free$value),
               list(par = edges[[1]]$par, phi = 1, value = edges[[1]]$value),
               list(par = edges[[2]]$par, phi = -1, value = edges[[2]]$value))
  top <- cand[[which.min(sapply(cand, function(c) c$value))]]
  s <- exp(top$par[1:5]); rho <- tanh(top$par[6])
  out$best_loglik <- max(-top$value / 2, out$limit_gls_loglik)
  out$best_s <- s; out$best_rho <- rho; out$best_phi <- top$phi
  out$best_beta <- devb(s, rho, top$phi, beta_only = TRUE)
  # the dense criterion at the best point's parameters, for a check of mixedfit's
  out$best_check <- list(s = s, rho = rho, phi = top$phi, crit = devb(s, rho, top$phi))
  out
}
