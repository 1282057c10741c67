# Dense REML/ML log-likelihood (n x n V, chol + Householder QR of the whitened [X y]) for the rv10 cases,
# evaluated at mixedfit's points and maximised by nlminb from several starts (incl. mixedfit's point).
# Run: Rscript dense.R case  (reads py_head.json or PYJSON env, writes dense_<case>.json)
suppressMessages(library(jsonlite))
args <- commandArgs(TRUE); nm <- args[1]
pyj <- Sys.getenv("PYJSON", "/tmp/p10/rv10/py_head.json")
py <- fromJSON(pyj, simplifyVector = FALSE)
kind <- list(none4 = c("none", "0"), cs5 = c("cs", "0"), ar13 = c("ar1", "0"), ar16 = c("ar1", "0"),
             ri_none6 = c("none", "ri"), ri_ar14 = c("ar1", "ri"), slope4 = c("none", "slope"), two5 = c("none", "two"))[[nm]]
corr <- kind[1]; re <- kind[2]
d0 <- read.csv(sprintf("/tmp/p10/rv10/data/%s.csv", nm), stringsAsFactors = FALSE)
build <- function(d) {
  d$y <- d$y - mean(d$y)  # exact for y + 1e4 (Sterbenz); the criteria are invariant (intercept in X)
  d$stratum <- factor(d$stratum, levels = c("A","B","C","D"))
  X <- model.matrix(~ stratum + x, d)
  list(d = d, X = X, n = nrow(d), p = ncol(X), sub = d$subject, site = d$site, t = d$t,
       st = as.integer(d$stratum), x = d$x, same = outer(d$subject, d$subject, "=="),
       lag = abs(outer(d$t, d$t, "-")), samesite = outer(d$site, d$site, "=="))
}
npar_corr <- if (corr == "none") 0 else 1
npar_re <- switch(re, "0" = 0, ri = 1, slope = 3, two = 2)
# par: log dB, log dC, log dD, [atanh rho], [re: ri log th; slope L11, L21, L22; two log th_sub, log th_site]
Vof <- function(par, B) {
  s <- c(1, exp(par[1:3]))[B$st]
  if (corr == "none") R <- diag(B$n) else {
    r <- tanh(par[4])
    R <- if (corr == "ar1") B$same * r^B$lag else B$same * (r + (1 - r) * diag(B$n))
  }
  V <- outer(s, s) * R
  q <- par[-(1:(3 + npar_corr))]
  if (re == "ri") V <- V + exp(2 * q[1]) * B$same
  if (re == "slope") { L <- matrix(c(q[1], q[2], 0, q[3]), 2); G <- L %*% t(L)
    V <- V + B$same * (G[1,1] + G[1,2] * outer(B$x, rep(1, B$n)) + G[2,1] * outer(rep(1, B$n), B$x) + G[2,2] * outer(B$x, B$x)) }
  if (re == "two") V <- V + exp(2 * q[1]) * B$same + exp(2 * q[2]) * B$samesite
  V
}
crit <- function(par, B, reml) {
  V <- Vof(par, B)
  U <- tryCatch(chol(V), error = function(e) NULL); if (is.null(U)) return(Inf)
  W <- backsolve(U, cbind(B$X, B$d$y), transpose = TRUE)
  Rq <- qr.R(qr(W)); dg <- abs(diag(Rq)); p <- B$p; n <- B$n
  r2 <- dg[p + 1]^2; ld <- 2 * sum(log(diag(U)))
  if (reml) ld + 2 * sum(log(dg[1:p])) + (n - p) * (1 + log(2 * pi * r2 / (n - p)))
  else ld + n * (1 + log(2 * pi * r2 / n))
}
mfpar <- function(e) {
  pr <- e$params; th <- unlist(e$theta) / pr$A
  par <- log(c(pr$B, pr$C, pr$D) / pr$A)
  if (corr != "none") par <- c(par, atanh(if (corr == "ar1") pr$Phi else pr$Rho))
  if (re == "ri") par <- c(par, log(th[1]))
  if (re == "slope") par <- c(par, th)
  if (re == "two") par <- c(par, log(th[1]), log(th[2]))
  par
}
variant_data <- function(v) {
  d <- d0
  if (v == "plus") d$y <- d$y + 1e4
  if (v == "times") d$y <- d$y * 1e-3
  build(d)
}
out <- list()
set.seed(1)
for (method in c("REML", "ML")) {
  reml <- method == "REML"
  B <- variant_data("asis")
  e0 <- py[[paste(nm, "asis", method, sep = ".")]]
  p0 <- mfpar(e0)
  starts <- list(p0)
  for (lb in c(-4, -8, -12, -16)) { s <- p0; s[1] <- lb; starts[[length(starts) + 1]] <- s }
  for (k in 1:3) starts[[length(starts) + 1]] <- p0 + rnorm(length(p0), sd = 0.3)
  best <- list(objective = Inf)
  lo <- c(-30, -12, -12, rep(-20, length(p0) - 3)); hi <- rep(20, length(p0))
  if (corr != "none") { lo[4] <- -3.8; hi[4] <- 3.8 }
  for (s in starts) {
    r <- tryCatch(nlminb(s, crit, B = B, reml = reml, lower = lo, upper = hi,
                         control = list(eval.max = 5000, iter.max = 3000, rel.tol = 1e-15, x.tol = 1e-12)),
                  error = function(e) list(objective = Inf))
    if (is.finite(r$objective) && r$objective < best$objective) best <- r
  }
  # polish with Nelder-Mead then nlminb again
  r2 <- optim(best$par, function(p) if (any(p < lo | p > hi)) Inf else crit(p, B, reml), control = list(maxit = 4000, reltol = 1e-16))
  if (r2$value < best$objective) best <- list(par = r2$par, objective = r2$value)
  n <- B$n; pp <- B$p
  res <- list(dense_max = -best$objective / 2, dense_par = best$par,
              dense_ratios = exp(best$par[1:3]))
  for (v in c("asis", "shuffled", "plus", "times")) {
    e <- py[[paste(nm, v, method, sep = ".")]]
    if (is.null(e$loglik)) next
    Bv <- if (v == "shuffled") B else variant_data(v)
    res[[paste0(v, "_mf")]] <- e$loglik
    res[[paste0(v, "_dense_at_mf")]] <- -crit(mfpar(e), Bv, reml) / 2
    shift <- if (v == "times") (if (reml) n - pp else n) * log(1e3) else 0
    res[[paste0(v, "_sup")]] <- if (v == "plus") NA else -best$objective / 2 + shift
  }
  if (TRUE) {  # supremum of the plus data too (start at the asis optimum)
    Bp <- variant_data("plus")
    rp <- nlminb(best$par, crit, B = Bp, reml = reml, lower = lo, upper = hi, control = list(eval.max = 5000, iter.max = 3000, rel.tol = 1e-15))
    rp2 <- nlminb(mfpar(py[[paste(nm, "plus", method, sep = ".")]]), crit, B = Bp, reml = reml, lower = lo, upper = hi, control = list(eval.max = 5000, iter.max = 3000, rel.tol = 1e-15))
    res$plus_sup <- -min(rp$objective, rp2$objective) / 2
  }
  out[[method]] <- res
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), sprintf("/tmp/p10/rv10/dense_%s.json", nm))
