# toep11 (session 12): the dense criterion of y ~ x + toep(0 + occf | Subject) with residual
# sigma^2 R_AR1(phi) (AR1 on occ within Subject), written without mixedfit, with the toep term's
# correlation from its partial autocorrelations pi_m = tanh(q_m) (Durbin-Levinson): G is positive
# (semi)definite everywhere, as in mixedfit's toep (engine/structures.py). rar1_dense_gen.R fills
# the lag correlations directly (glmmTMB's toep), so its "interior" optimum (7.778162) has an
# indefinite G (eigenvalue -0.98): outside the model. Also checks that.
# Rscript rar1_dense_toep_pacf.R rar1_s11.csv REML > s11_toep_pacf_REML.json
library(jsonlite)
a <- commandArgs(TRUE); file <- a[1]; reml <- a[2] == "REML"
d <- read.csv(file, stringsAsFactors = FALSE)
n <- nrow(d); X <- cbind(1, d$x); y <- d$y; p <- ncol(X)
rows <- split(seq_len(n), d$Subject)
pacf_to_acf <- function(pp) {
  m <- length(pp); r <- numeric(m); ph <- numeric(0)
  for (k in seq_len(m)) {
    if (k == 1) { r[1] <- pp[1]; ph <- pp[1]; next }
    v <- 1 - sum(ph * r[1:(k - 1)])
    r[k] <- sum(ph * r[(k - 1):1]) + pp[k] * v
    ph <- c(ph - pp[k] * rev(ph), pp[k])
  }
  r
}
Gof <- function(q) {
  s <- exp(q[1:5]); L <- abs(outer(1:5, 1:5, "-"))
  r <- c(1, pacf_to_acf(tanh(q[6:9])))
  outer(s, s) * matrix(r[L + 1], 5)
}
devb <- function(q, phi, w, out = FALSE) {
  G <- Gof(q)
  XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0
  for (g in rows) {
    k <- d$occ[g]
    W <- G[k, k, drop = FALSE] + w * phi^abs(outer(k, k, "-"))
    C <- tryCatch(chol(W), error = function(e) NULL); if (is.null(C)) return(Inf)
    Xw <- backsolve(C, X[g, , drop = FALSE], transpose = TRUE)
    yw <- backsolve(C, y[g], transpose = TRUE)
    XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2)
    logdet <- logdet + 2 * sum(log(diag(C)))
  }
  beta <- tryCatch(solve(XVX, XVy), error = function(e) NULL); if (is.null(beta)) return(Inf)
  r2 <- yVy - sum(XVy * beta); if (!(r2 > 0)) return(Inf)
  if (out) return(list(beta = as.numeric(beta), sigma = sqrt(r2 / (if (reml) n - p else n))))
  if (reml) (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet + as.numeric(determinant(XVX)$modulus)
  else n * (1 + log(2 * pi * r2 / n)) + logdet
}
wrap <- function(v) if (is.finite(v)) v else 1e10
best_of <- function(f, starts) {
  best <- list(value = Inf)
  for (st in starts) {
    o3 <- tryCatch(nlminb(st, f, control = list(iter.max = 3000, eval.max = 6000, rel.tol = 1e-13)), error = function(e) NULL)
    if (is.null(o3)) next
    o1 <- optim(o3$par, f, method = "BFGS", control = list(maxit = 3000, reltol = 1e-15))
    for (o in list(list(par = o1$par, value = o1$value), list(par = o3$par, value = o3$objective)))
      if (o$value < best$value) best <- o
  }
  best
}
set.seed(12)
starts <- list(c(rep(0, 5), rep(0.3, 4)), c(log(c(1, .05, 1, .05, 1) * 20), rep(0.6, 4)),
               c(log(c(1, .05, 1, .05, 1) * 20), 3, -0.5, 0.8, -0.5),
               c(log(c(1, .05, 1, .05, 1) * 100), rep(0.6, 4)))
for (i in 1:16) starts[[length(starts) + 1]] <- c(rnorm(5, 1.5, 1.5), rnorm(4, 0, 1))
phis <- c(-0.7, -0.3, 0.3, 0.7, 0.9)
fi <- function(par) wrap(devb(par[1:9], tanh(par[10]), 1))
all <- list()
for (st in starts) for (ph in phis) all[[length(all) + 1]] <- c(st, atanh(ph))
free <- best_of(fi, all)
res <- list()
res$best_loglik_interior <- -free$value / 2
res$interior_phi <- tanh(free$par[10]); res$interior_pacf <- tanh(free$par[6:9])
res$interior_sd <- exp(free$par[1:5])
res$interior_fit <- devb(free$par[1:9], tanh(free$par[10]), 1, out = TRUE)
res$interior_G_eigen <- eigen(Gof(free$par[1:9]), only.values = TRUE)$values
for (e in c(1, -1)) {
  o <- best_of(function(par) wrap(devb(par, e, 1)), c(starts, list(free$par[1:9])))
  res[[sprintf("edge%+d", e)]] <- -o$value / 2
  res[[sprintf("edge%+d_pacf", e)]] <- tanh(o$par[6:9])
  res[[sprintf("edge%+d_fit", e)]] <- devb(o$par, e, 1, out = TRUE)
}
lim <- best_of(function(par) wrap(devb(par, 0, 0)), starts)
res$limit <- -lim$value / 2
res$best_loglik <- max(res$best_loglik_interior, res[["edge+1"]], res[["edge-1"]], res$limit)
# the direct-fill optimum of rar1_dense_gen.R (s11_toep_REML.json): its G is indefinite
old <- fromJSON("s11_toep_REML.json")
res$direct_fill_interior_G_eigen <- eigen(old$interior_G, only.values = TRUE)$values
cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
