library(jsonlite); library(nlme)
fit_one <- function(file, reml) {
  d <- read.csv(file, stringsAsFactors = FALSE)
  n <- nrow(d); X <- cbind(1, d$x); y <- d$y; p <- ncol(X)
  rows <- split(seq_len(n), d$Subject)
  devb <- function(s, rho, phi, beta_only = FALSE) {
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
  crit <- function(par, phi = NULL) {
    v <- devb(exp(par[1:5]), tanh(par[6]), if (is.null(phi)) tanh(par[7]) else phi)
    if (!is.finite(v)) 1e10 else v
  }
  d$occf <- factor(d$occf)
  g <- gls(y ~ x, d, correlation = corAR1(form = ~ occ | Subject),
           weights = varIdent(form = ~ 1 | occf), method = if (reml) "REML" else "ML")
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
a <- commandArgs(TRUE); reml <- a[1] == "REML"
for (nm in a[-1]) {
  f <- fit_one(sprintf("%s.csv", nm), reml)
  write_json(f, sprintf("%s_%s.json", nm, a[1]), digits = NA, auto_unbox = TRUE, pretty = TRUE)
}
