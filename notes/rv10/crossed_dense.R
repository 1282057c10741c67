# Dense REML/ML of y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject) [hom], full n x n V,
# V = tau2 J_subj + s2 rho^|dt| (within subject) + v_item Z_item Z_item' + sig2 I (sig2 free, or 0: the limit),
# variances explicit (not profiled); nlminb from several starts. Also nlme at item var 0 (nested limit).
# Run: Rscript crossed_dense.R name...  -> crossed_dense_<name>.json
suppressMessages({library(jsonlite); library(nlme)})
res <- list()
for (nm in commandArgs(TRUE)) {
  d <- read.csv(sprintf("/tmp/p10/rv10/data/%s.csv", nm), stringsAsFactors = FALSE)
  d$y <- d$y - mean(d$y)
  n <- nrow(d); X <- model.matrix(~t, d); p <- ncol(X)
  S <- outer(d$subject, d$subject, "=="); H <- abs(outer(d$t, d$t, "-")); I <- outer(d$item, d$item, "==")
  crit <- function(par, reml, lim = FALSE, noitem = FALSE) {
    tau2 <- exp(2 * par[1]); s2 <- exp(2 * par[2]); rho <- tanh(par[3])
    vi <- if (noitem) 0 else exp(2 * par[4]); sg <- if (lim) 0 else exp(2 * par[5])
    V <- tau2 * S + s2 * (rho^H) * S + vi * I + sg * diag(n)
    L <- tryCatch(chol(V), error = function(e) NULL); if (is.null(L)) return(1e10)
    Xw <- backsolve(L, X, transpose = TRUE); yw <- backsolve(L, d$y, transpose = TRUE)
    Rq <- qr.R(qr(cbind(Xw, yw))); r2 <- Rq[p + 1, p + 1]^2
    v <- 2 * sum(log(diag(L))) + r2 + (if (reml) (n - p) else n) * log(2 * pi)
    if (reml) v <- v + 2 * sum(log(abs(diag(Rq)[1:p])))
    v
  }
  out <- list()
  for (reml in c(TRUE, FALSE)) {
    best <- function(f, starts) { b <- list(objective = Inf)
      for (s in starts) { o <- tryCatch(nlminb(s, f, control = list(eval.max = 4000, iter.max = 3000, rel.tol = 1e-14)), error = function(e) list(objective = Inf))
        if (o$objective < b$objective) b <- o }
      o <- optim(b$par, f, method = "BFGS", control = list(maxit = 3000, reltol = 1e-16)); if (o$value < b$objective) b <- list(par = o$par, objective = o$value)
      b }
    st <- list(c(0, 0, atanh(0.9), log(0.3)), c(log(0.5), log(1.2), atanh(0.8), log(0.1)), c(0, log(0.8), atanh(0.95), -4), c(0.2, 0, atanh(0.5), log(0.5)))
    lim <- best(function(q) crit(q, reml, lim = TRUE), st)
    nested <- best(function(q) crit(c(q, 0), reml, lim = TRUE, noitem = TRUE), lapply(st, function(s) s[1:3]))
    free <- best(function(q) crit(q, reml), c(lapply(st, function(s) c(s, -1)), lapply(st, function(s) c(s, -6)), list(c(lim$par, -8))))
    out[[if (reml) "REML" else "ML"]] <- list(limit_loglik = -lim$objective / 2, limit_sd = exp(lim$par[c(1, 2, 4)]), limit_rho = tanh(lim$par[3]),
      nested_limit_loglik = -nested$objective / 2, free_loglik = -free$objective / 2, free_sd = exp(free$par[c(1, 2, 4, 5)]), free_rho = tanh(free$par[3]))
    cat(nm, reml, "limit", -lim$objective / 2, "item sd", exp(lim$par[4]), "nested", -nested$objective / 2, "free", -free$objective / 2, "sigma", exp(free$par[5]), "\n")
  }
  res[[nm]] <- out
  writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), sprintf("/tmp/p10/rv10/crossed_dense_%s.json", nm))
}
