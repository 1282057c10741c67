# rv12a: dense criterion of y ~ x + <term>(0 + occf | Subject) with residual sigma^2 D R(phi) D
# (AR1 on occ within Subject, optional VarIdent by column grp), written without mixedfit.
# Rscript dense_gen.R file.csv REML|ML ar1|toep|cs vi|novi  -> prints interior, edge+1, edge-1, limit
library(jsonlite)
a <- commandArgs(TRUE); file <- a[1]; reml <- a[2] == "REML"; term <- a[3]; vi <- a[4] == "vi"
d <- read.csv(file, stringsAsFactors = FALSE)
if (vi) d$grp <- ifelse(as.integer(substring(d$Subject, 2)) %% 2 == 0, "a", "b")
n <- nrow(d); X <- cbind(1, d$x); y <- d$y; p <- ncol(X)
rows <- split(seq_len(n), d$Subject)
ng <- switch(term, ar1 = 6, toep = 9, cs = 6)
Gof <- function(q) {
  s <- exp(q[1:5]); L <- abs(outer(1:5, 1:5, "-"))
  C <- switch(term, ar1 = tanh(q[6])^L,
              toep = { r <- c(1, tanh(q[6:9])); matrix(r[L + 1], 5) },
              cs = { m <- matrix(tanh(q[6]), 5, 5); diag(m) <- 1; m })
  outer(s, s) * C
}
devb <- function(q, phi, w, ratio, out = FALSE) {
  G <- Gof(q)
  XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0
  for (g in rows) {
    k <- d$occ[g]
    sd <- if (vi) ifelse(d$grp[g] == "b", ratio, 1) else rep(1, length(g))
    W <- G[k, k, drop = FALSE] + w * outer(sd, sd) * phi^abs(outer(k, k, "-"))
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
best_of <- function(f, starts) {
  best <- list(value = Inf)
  for (st in starts) {
    o3 <- tryCatch(nlminb(st, f, control = list(iter.max = 2000, eval.max = 4000, rel.tol = 1e-13)), error = function(e) NULL)
    if (is.null(o3)) next
    o1 <- optim(o3$par, f, method = "BFGS", control = list(maxit = 2000, reltol = 1e-14))
    for (o in list(list(par = o1$par, value = o1$value), list(par = o3$par, value = o3$objective)))
      if (o$value < best$value) best <- o
  }
  best
}
wrap <- function(v) if (is.finite(v)) v else 1e10
nq <- ng + vi  # + log ratio
split_par <- function(par) list(q = par[1:ng], ratio = if (vi) exp(par[ng + 1]) else 1)
set.seed(5)
base <- c(rep(0, 5), rep(0.5, ng - 5))
starts <- list(c(base, rep(0, vi)), c(log(c(1, .05, 1, .05, 1) * 20), rep(0.6, ng - 5), rep(0, vi)),
               c(log(c(1, .05, 1, .05, 1) * 100), rep(0.6, ng - 5), rep(0, vi)))
for (i in 1:3) starts[[length(starts) + 1]] <- c(rnorm(5, 2, 1.5), rnorm(ng - 5, 0, 0.7), rep(0, vi))
res <- list()
free <- best_of(function(par) { s <- split_par(par); wrap(devb(s$q, tanh(par[nq + 1]), 1, s$ratio)) },
                lapply(starts, function(st) c(st, 0.5)))
free <- best_of(function(par) { s <- split_par(par); wrap(devb(s$q, tanh(par[nq + 1]), 1, s$ratio)) },
                list(free$par, c(free$par[1:nq], 2.5), c(free$par[1:nq], -2.5)))
res$interior <- -free$value / 2; res$interior_phi <- tanh(free$par[nq + 1]); res$interior_par <- free$par; res$interior_G <- Gof(free$par[1:ng])
for (e in c(1, -1)) {
  o <- best_of(function(par) { s <- split_par(par); wrap(devb(s$q, e, 1, s$ratio)) }, c(starts, list(free$par[1:nq])))
  s <- split_par(o$par)
  res[[sprintf("edge%+d", e)]] <- -o$value / 2
  res[[sprintf("edge%+d_fit", e)]] <- devb(s$q, e, 1, s$ratio, out = TRUE)
}
lim <- best_of(function(par) wrap(devb(par, 0, 0, 1)), lapply(starts, function(st) st[1:ng]))
res$limit <- -lim$value / 2
cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
