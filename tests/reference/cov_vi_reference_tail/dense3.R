# rv17: dense REML/ML criterion of y ~ x + ar1(0 + occf | Subject[, hom]) with residual
# sigma^2 D R_AR1(phi) D, D = VarIdent(grp) over any number of strata; written without mixedfit.
# V/sigma^2 = G[k,k] + r_g^2 phi^|k-k'| per subject, G relative to sigma^2 (sigma^2 = the scale stratum's
# variance). Maximized for each choice of scale stratum (the others' log ratios free in [-30, 8]: a stratum
# may vanish, a partial limit) and at the full limit (all residual variance 0), nlminb + BFGS, many starts.
# Rscript dense3.R file.csv REML|ML hom|het K  -> JSON on stdout
suppressMessages(library(jsonlite))
a <- commandArgs(TRUE); d <- read.csv(a[1], stringsAsFactors = FALSE); reml <- a[2] == "REML"; hom <- a[3] == "hom"
K <- as.integer(a[4])
n <- nrow(d); X <- cbind(1, d$x); p <- 2
labs <- sort(unique(d$grp)); S <- length(labs)
subj <- split(seq_len(n), d$Subject)
key <- sapply(subj, function(g) paste(c(d$grp[g[1]], d$occ[g]), collapse = "."))
groups <- lapply(split(subj, key), function(gs) {
  k <- d$occ[gs[[1]]]; m <- length(k)
  Y <- matrix(sapply(gs, function(g) d$y[g]), m); X1 <- matrix(1, m, length(gs)); X2 <- matrix(sapply(gs, function(g) d$x[g]), m)
  list(k = k, s = match(d$grp[gs[[1]][1]], labs), Y = Y, X1 = X1, X2 = X2, ns = length(gs))
})
nsd <- if (hom) 1 else K
Lag <- abs(outer(1:K, 1:K, "-"))
devb <- function(sd, rho, phi, r2s, out = FALSE) {
  s <- rep(sd, length.out = K); G <- outer(s, s) * rho^Lag
  XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0
  for (gr in groups) {
    k <- gr$k
    W <- G[k, k, drop = FALSE] + r2s[gr$s] * phi^abs(outer(k, k, "-"))
    C <- tryCatch(chol(W), error = function(e) NULL); if (is.null(C)) return(Inf)
    yw <- backsolve(C, gr$Y, transpose = TRUE); a1 <- backsolve(C, gr$X1, transpose = TRUE); a2 <- backsolve(C, gr$X2, transpose = TRUE)
    XVX <- XVX + matrix(c(sum(a1 * a1), sum(a1 * a2), sum(a1 * a2), sum(a2 * a2)), 2)
    XVy <- XVy + c(sum(a1 * yw), sum(a2 * yw)); yVy <- yVy + sum(yw^2)
    logdet <- logdet + gr$ns * 2 * sum(log(diag(C)))
  }
  beta <- tryCatch(solve(XVX, XVy), error = function(e) NULL); if (is.null(beta)) return(Inf)
  r2 <- yVy - sum(XVy * beta); if (!(r2 > 0)) return(Inf)
  if (out) return(list(beta = as.numeric(beta), sigma = sqrt(r2 / (if (reml) n - p else n))))
  if (reml) (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet + as.numeric(determinant(XVX)$modulus)
  else n * (1 + log(2 * pi * r2 / n)) + logdet
}
wrap <- function(v) if (is.finite(v)) v else 1e10
mk <- function(scale) function(par) {
  eta <- rep(0, S); if (S > 1) eta[-scale] <- par[(nsd + 3):(nsd + 1 + S)]
  wrap(devb(exp(par[1:nsd]), tanh(par[nsd + 1]), tanh(par[nsd + 2]), exp(2 * eta)))
}
flim <- function(par) wrap(devb(exp(par[1:nsd]), tanh(par[nsd + 1]), 0, rep(0, S)))
one <- function(f, st, lo, hi) {
  o <- tryCatch(nlminb(st, f, lower = lo, upper = hi, control = list(iter.max = 2000, eval.max = 4000, rel.tol = 1e-13)), error = function(e) NULL)
  if (is.null(o)) return(NULL)
  for (i in 1:3) {
    o2 <- tryCatch(nlminb(o$par, f, lower = lo, upper = hi, control = list(iter.max = 2000, eval.max = 4000, rel.tol = 1e-14)), error = function(e) NULL)
    if (is.null(o2) || o2$objective >= o$objective - 1e-12) break
    o <- o2
  }
  list(par = o$par, value = o$objective)
}
set.seed(17)
res <- list(file = a[1], method = a[2], labels = labs)
best <- list(value = Inf)
for (sc in 1:S) {
  np <- nsd + 2 + S - 1
  lo <- c(rep(-8, nsd), -6, -6, rep(-30, S - 1)); hi <- c(rep(8, nsd), 6, 6, rep(8, S - 1))
  starts <- list()
  for (ph in c(-0.5, 0, 0.5, 0.9)) for (r in c(0, 0.6, 0.95)) for (e in c(0, -3, -8)) for (sd in c(0.5, 3))
    starts[[length(starts) + 1]] <- c(rep(log(sd), nsd), atanh(r), atanh(ph), rep(e, S - 1))
  for (i in 1:6) starts[[length(starts) + 1]] <- c(rnorm(nsd, 0, 1), rnorm(2, 0, 0.8), rnorm(S - 1, -2, 4))
  f <- mk(sc); bs <- list(value = Inf)
  sc_ <- lapply(starts, function(st) tryCatch(nlminb(st, f, lower = lo, upper = hi, control = list(iter.max = 25, eval.max = 400)), error = function(e) NULL))
  ok <- which(!sapply(sc_, is.null)); vals <- sapply(sc_[ok], function(o) o$objective); ord <- ok[order(vals)]
  chosen <- c(); seen <- c()
  for (i in ord) { v <- round(sc_[[i]]$objective, 3); if (length(chosen) < 8 && !(v %in% seen)) { chosen <- c(chosen, i); seen <- c(seen, v) } }
  for (i in chosen) { o <- one(f, sc_[[i]]$par, lo, hi); if (!is.null(o) && o$value < bs$value) bs <- o }
  eta <- rep(0, S); eta[-sc] <- bs$par[(nsd + 3):(nsd + 1 + S)]
  res[[paste0("scale_", labs[sc])]] <- list(loglik = -bs$value / 2, phi = tanh(bs$par[nsd + 2]), rho = tanh(bs$par[nsd + 1]),
    sd_rel = exp(bs$par[1:nsd]), log_ratio = eta)
  if (bs$value < best$value) { best <- bs; best$scale <- sc }
}
lst <- list(); for (sd in c(0.5, 2, 5, 20)) for (r in c(0, 0.6, 0.95)) lst[[length(lst) + 1]] <- c(rep(log(sd), nsd), atanh(r), 0)
bl <- list(value = Inf)
for (st in lst) { o <- one(flim, st, c(rep(-8, nsd), -6, -1), c(rep(8, nsd), 6, 1)); if (!is.null(o) && o$value < bl$value) bl <- o }
res$limit <- -bl$value / 2
res$best <- max(-best$value / 2, res$limit)
eta <- rep(0, S); eta[-best$scale] <- best$par[(nsd + 3):(nsd + 1 + S)]
res$best_scale <- labs[best$scale]; res$best_phi <- tanh(best$par[nsd + 2]); res$best_rho <- tanh(best$par[nsd + 1])
res$best_log_ratio <- eta
res$best_fit <- devb(exp(best$par[1:nsd]), tanh(best$par[nsd + 1]), tanh(best$par[nsd + 2]), exp(2 * eta), out = TRUE)
cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
