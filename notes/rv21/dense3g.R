# Stress reviewer (p12): dense criterion of y ~ x + <term>(0 + occf | Subject) with residual
# sigma^2 D R_AR1(phi) D (AR1 on occ within Subject, optional VarIdent by subject-level grp),
# written without mixedfit (after tests/reference/cov_rar1_limit/rar1_dense_criterion.R and
# notes/rv12a/dense_gen.R), generalised: K occasions, terms ar1het/ar1hom/cs/toep/diag,
# diaghom (diag(hom=True)), missing visits; subjects grouped by (visit pattern, grp) so one Cholesky serves a group.
# V/sigma^2 = G[k,k] + w * diag(sd) phi^|occ_i-occ_j| diag(sd), G relative to sigma^2.
# v3: screening multistart: 34 interior starts (5 phi x 3 rho x 2 sd + 4 random) 20 iterations each, the
# best 6 distinct run to convergence; edges 13 starts (+ the interior optimum) keep 4; limit 10 keep 3.
# Rscript dense_stress2.R specs.json name  -> JSON: interior (best over a wide multistart),
# all local optima found, edge+1, edge-1 (phi held, other parameters free), limit (w = 0).
library(jsonlite)
a <- commandArgs(TRUE); specs <- fromJSON(a[1], simplifyVector = FALSE); name <- a[2]
sp <- Filter(function(s) s$name == name, specs)[[1]]
dir <- if (length(a) > 2) a[3] else "/tmp/p12/stress/data"
d <- read.csv(sprintf("%s/%s.csv", dir, name), stringsAsFactors = FALSE)
K <- sp$K; term <- sp$term; vi <- isTRUE(sp$vi); reml <- isTRUE(sp$reml)
n <- nrow(d); X <- cbind(1, d$x); p <- ncol(X)
key <- sapply(split(seq_len(n), d$Subject), function(g) paste(c(d$grp[g[1]], d$occ[g]), collapse = "."))
subj <- split(seq_len(n), d$Subject)
groups <- lapply(split(subj, key), function(gs) {
  k <- d$occ[gs[[1]]]; m <- length(k)
  Y <- sapply(gs, function(g) d$y[g]); Xs <- lapply(1:p, function(j) sapply(gs, function(g) X[g, j]))
  if (m == 1) { Y <- matrix(Y, 1); Xs <- lapply(Xs, function(x) matrix(x, 1)) }
  list(k = k, g = d$grp[gs[[1]][1]], Y = Y, Xs = Xs, ns = length(gs))
})
nsd <- if (term %in% c("ar1hom", "diaghom")) 1 else K
ncor <- switch(term, ar1het = 1, ar1hom = 1, cs = 1, toep = K - 1, diag = 0, diaghom = 0)
lv <- sort(unique(d$grp)); nvi <- if (vi) length(lv) - 1 else 0
ng <- nsd + ncor; nq <- ng + nvi
Lag <- abs(outer(1:K, 1:K, "-"))
pacf2acf <- function(pp) {
  r <- 1; ph <- numeric(0)
  for (k in seq_along(pp)) {
    a <- pp[k]; ph <- if (k > 1) c(ph - a * rev(ph), a) else a
    r <- c(r, sum(ph * rev(r)))
  }
  r
}
corr_of <- function(c) switch(term,
  ar1het = , ar1hom = tanh(c)^Lag,
  cs = { lo <- -1 / (K - 1); r <- lo + (1 - lo) * plogis(c); m <- matrix(r, K, K); diag(m) <- 1; m },
  toep = matrix(pacf2acf(tanh(c))[Lag + 1], K),
  diag = , diaghom = diag(K))
Gof <- function(q) {
  s <- exp(q[1:nsd]); if (nsd == 1) s <- rep(s, K)
  outer(s, s) * corr_of(if (ncor) q[(nsd + 1):ng] else NULL)
}
devb <- function(q, phi, w, ratio, out = FALSE) {
  G <- Gof(q)
  XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0
  for (gr in groups) {
    k <- gr$k; sdv <- if (gr$g == lv[1]) 1 else ratio[[gr$g]]
    W <- G[k, k, drop = FALSE] + w * sdv^2 * phi^abs(outer(k, k, "-"))
    C <- tryCatch(chol(W), error = function(e) NULL); if (is.null(C)) return(Inf)
    yw <- backsolve(C, gr$Y, transpose = TRUE)
    Xw <- lapply(gr$Xs, function(x) backsolve(C, x, transpose = TRUE))
    for (i in 1:p) { XVy[i] <- XVy[i] + sum(Xw[[i]] * yw); for (j in 1:i) XVX[i, j] <- XVX[i, j] + sum(Xw[[i]] * Xw[[j]]) }
    yVy <- yVy + sum(yw^2); logdet <- logdet + gr$ns * 2 * sum(log(diag(C)))
  }
  XVX[upper.tri(XVX)] <- t(XVX)[upper.tri(XVX)]
  beta <- tryCatch(solve(XVX, XVy), error = function(e) NULL); if (is.null(beta)) return(Inf)
  r2 <- yVy - sum(XVy * beta); if (!(r2 > 0)) return(Inf)
  if (out) return(list(beta = as.numeric(beta), sigma = sqrt(r2 / (if (reml) n - p else n))))
  if (reml) (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet + as.numeric(determinant(XVX)$modulus)
  else n * (1 + log(2 * pi * r2 / n)) + logdet
}
wrap <- function(v) if (is.finite(v)) v else 1e10
ratio_of <- function(par) if (vi) setNames(exp(par[(ng + 1):(ng + nvi)]), lv[-1]) else 1
fint <- function(par) wrap(devb(par[1:ng], tanh(par[nq + 1]), 1, ratio_of(par)))
fedge <- function(e) function(par) wrap(devb(par[1:ng], e, 1, ratio_of(par)))
flim <- function(par) wrap(devb(par[1:ng], 0, 0, setNames(rep(1, nvi), lv[-1])))
one <- function(f, st) {
  o3 <- tryCatch(nlminb(st, f, control = list(iter.max = 1500, eval.max = 3000, rel.tol = 1e-12)), error = function(e) NULL)
  if (is.null(o3)) return(NULL)
  o1 <- tryCatch(optim(o3$par, f, method = "BFGS", control = list(maxit = 1000, reltol = 1e-14)), error = function(e) NULL)
  if (!is.null(o1) && o1$value < o3$objective) list(par = o1$par, value = o1$value) else list(par = o3$par, value = o3$objective)
}
screen <- function(f, st) tryCatch(nlminb(st, f, control = list(iter.max = 20, eval.max = 250)), error = function(e) NULL)
best_of <- function(f, starts, keep = 6) {
  # screening multistart: every start for 40 iterations, the best `keep` (distinct) run to convergence
  sc <- lapply(starts, function(st) screen(f, st))
  ok <- which(!sapply(sc, is.null)); vals <- sapply(sc[ok], function(o) o$objective)
  ord <- ok[order(vals)]; chosen <- c(); seen <- c()
  for (i in ord) { v <- round(sc[[i]]$objective, 3); if (length(chosen) < keep && !(v %in% seen)) { chosen <- c(chosen, i); seen <- c(seen, v) } }
  best <- list(value = Inf); all <- numeric(0); pars <- list()
  for (i in chosen) {
    o <- one(f, sc[[i]]$par); if (is.null(o)) next
    all <- c(all, o$value); pars[[length(pars) + 1]] <- o$par
    if (o$value < best$value) best <- o
  }
  o <- one(f, best$par); if (!is.null(o) && o$value < best$value) best <- o
  best$all <- all; best$pars <- pars; best
}
cor_start <- function(r) switch(term, ar1het = , ar1hom = atanh(r), cs = { lo <- -1 / (K - 1); qlogis((max(r, lo + 0.05) - lo) / (1 - lo)) },
  toep = c(atanh(r), rep(0, K - 2)), diag = , diaghom = numeric(0))
set.seed(11)
starts <- list()
for (ph in c(-0.9, -0.5, 0, 0.5, 0.9)) for (r in c(-0.5, 0.5, 0.9)) for (sd in c(0.3, 3)) {
  if (term %in% c("diag", "diaghom") && r != 0.5) next
  starts[[length(starts) + 1]] <- c(rep(log(sd), nsd), cor_start(r), rep(0, nvi), atanh(ph))
}
for (i in 1:4) starts[[length(starts) + 1]] <- c(rnorm(nsd, 0, 1.2), rnorm(ncor, 0, 1), rnorm(nvi, 0, 0.5), rnorm(1, 0, 1.2))
t0 <- proc.time()[3]
free <- best_of(fint, starts)
res <- list(name = name, method = if (reml) "REML" else "ML")
res$interior <- -free$value / 2; res$interior_phi <- tanh(free$par[nq + 1]); res$interior_par <- free$par
res$interior_G <- Gof(free$par[1:ng]); res$interior_ratio <- as.list(ratio_of(free$par))
res$interior_fit <- devb(free$par[1:ng], tanh(free$par[nq + 1]), 1, ratio_of(free$par), out = TRUE)
lo <- sort(unique(round(-free$all / 2, 4)), decreasing = TRUE)
res$local_optima <- head(lo, 12)
res$local_phis <- sapply(free$pars, function(pp) round(tanh(pp[nq + 1]), 4))[order(free$all)][1:min(12, length(free$all))]
for (e in c(1, -1)) {
  est <- lapply(starts, function(st) st[1:nq]); est[[length(est) + 1]] <- free$par[1:nq]
  o <- best_of(fedge(e), est[unique(c(seq(1, length(est), by = 3), length(est)))], keep = 4)
  res[[sprintf("edge%+d", e)]] <- -o$value / 2
  res[[sprintf("edge%+d_par", e)]] <- o$par
  res[[sprintf("edge%+d_fit", e)]] <- devb(o$par[1:ng], e, 1, ratio_of(o$par), out = TRUE)
}
lst <- lapply(starts[seq(1, length(starts), by = 3)], function(st) st[1:ng] + log(5) * c(rep(1, nsd), rep(0, ncor)))
lim <- best_of(flim, lst, keep = 3)
res$limit <- -lim$value / 2; res$limit_par <- lim$par
res$best <- max(res$interior, res[["edge+1"]], res[["edge-1"]], res$limit)
res$where <- c("interior", "edge+1", "edge-1", "limit")[which.max(c(res$interior, res[["edge+1"]], res[["edge-1"]], res$limit))]
res$seconds <- proc.time()[3] - t0
cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
