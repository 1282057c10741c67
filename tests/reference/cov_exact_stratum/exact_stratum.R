# A VarIdent stratum fitted (nearly) exactly by the fixed effects (review rv11 MEDIUM-1): y ~ stratum * x,
# VarIdent(stratum); strata A (60 rows, noise sd 1) and B (y = 1 + 0.8 x + noise N(0, 1); 4 rows with noise 1e-9 / 1e-12,
# 3 rows with noise 0: hdf_vanished.csv). nlme::gls fails on all three ("false convergence (8)" / "infinite or missing
# values in 'x'"). The dense criterion: psi = (log sigma_A, log ratio_B), the unprofiled REML/ML deviance from the
# Householder QR of the whitened [X y] (rows by decreasing norm, no pivoting; as tests/reference/cov_probe/tiny_sat_gls.R), maximised by nlminb then BFGS.
# noise 1e-9 / 1e-12: an interior optimum (ratio ~5.8e-10 / ~5.9e-13). noise 0: B's residuals are rounding (within-B
# RSS 2e-31); the profiled criterion falls by 2 (n_B - rank X_B) log 10 = 4.605 per decade of the ratio down to ~1e-15,
# where the rounding of y stops it: unbounded in exact arithmetic. Run (in this directory): Rscript exact_stratum.R
suppressMessages({library(jsonlite); library(nlme)})
out <- list()
for (f in c("hdf2_1e-09.csv", "hdf2_1e-12.csv", "hdf_vanished.csv")) {
  d <- read.csv(f); d$stratum <- factor(d$stratum)
  X <- model.matrix(~ stratum * x, d); y <- d$y; n <- length(y); p <- ncol(X); B <- d$stratum == "B"
  nl <- list()
  for (m in c("REML", "ML")) nl[[m]] <- tryCatch({ g <- gls(y ~ stratum * x, d, weights = varIdent(form = ~ 1 | stratum), method = m)
    "converged" }, error = function(e) conditionMessage(e))
  res <- list(nlme = nl, within_B_rss = sum(qr.resid(qr(X[B, c(1, 3)]), y[B])^2))
  for (m in c("REML", "ML")) {
    reml <- m == "REML"
    wh <- function(psi) { s <- exp(psi[1]) * ifelse(B, exp(psi[2]), 1); W <- cbind(X, y) / s
      q <- qr(W[order(-rowSums(W^2)), ], tol = 0); stopifnot(q$rank == p + 1, all(q$pivot == 1:(p + 1)))
      list(R = qr.R(q), ld = 2 * sum(log(s))) }
    dev <- function(psi) { if (!all(is.finite(psi)) || psi[2] < -45) return(1e300); w <- wh(psi); dg <- abs(diag(w$R))
      if (reml) w$ld + 2 * sum(log(dg[1:p])) + dg[p + 1]^2 + (n - p) * log(2 * pi) else w$ld + dg[p + 1]^2 + n * log(2 * pi) }
    prof <- function(eta) optimize(function(a) dev(c(a, eta)), c(-3, 3), tol = 1e-12)$objective
    etas <- -(2:18) * log(10); pr <- sapply(etas, prof)
    eta0 <- etas[which.min(pr)]
    o <- nlminb(c(0, eta0), dev, control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000, iter.max = 5000))
    o2 <- optim(o$par, dev, method = "BFGS", control = list(reltol = 1e-16, maxit = 2000))
    psi <- if (o2$value < o$objective) o2$par else o$par
    R <- wh(psi)$R; beta <- backsolve(R[1:p, 1:p], R[1:p, p + 1]); V <- chol2inv(R[1:p, 1:p])
    res[[m]] <- list(loglik = -dev(psi) / 2, ratio = exp(psi[2]), sigma = exp(psi[1]), beta = beta, se = sqrt(diag(V)),
                     profile_log10_ratio = -(2:18), profile_deviance = pr)
    cat(f, m, "ll", sprintf("%.10f", -dev(psi) / 2), "ratio", exp(psi[2]), "beta", beta, "\n")
  }
  out[[f]] <- res
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "exact_stratum.json")
