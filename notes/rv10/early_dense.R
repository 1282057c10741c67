# Dense REML/ML of y ~ t + ar1(0 + tf|subject[, hom=False]) + sigma^2 I: V_i = S R(rho) S + sig2 I, variances explicit;
# nlminb from several starts (incl. sigma -> 0); also sigma = 0 exactly (the limit, = nlme gls corAR1 [+ varIdent]).
suppressMessages({library(jsonlite); library(nlme)})
res <- list()
for (spec in list(c("early_a", "hom"), c("early_b", "het"), c("early_c", "hom"))) {
  nm <- spec[1]; het <- spec[2] == "het"
  d <- read.csv(sprintf("/tmp/p10/rv10/data/%s.csv", nm), stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
  n <- nrow(d); X <- model.matrix(~t, d); p <- ncol(X); T <- max(d$t)
  blocks <- split(seq_len(n), d$subject)
  crit <- function(q, reml, lim = FALSE) {
    k <- if (het) T else 1
    s <- exp(q[1:k]); rho <- tanh(q[k + 1]); sg2 <- if (lim) 0 else exp(2 * q[k + 2])
    XVX <- 0; XVy <- 0; yVy <- 0; ld <- 0
    for (g in blocks) { tt <- d$t[g]; ss <- if (het) s[tt] else rep(s, length(g))
      V <- outer(ss, ss) * rho^abs(outer(tt, tt, "-")) + sg2 * diag(length(g))
      U <- tryCatch(chol(V), error = function(e) NULL); if (is.null(U)) return(1e10)
      Xw <- backsolve(U, X[g, , drop = FALSE], transpose = TRUE); yw <- backsolve(U, d$y[g], transpose = TRUE)
      XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2); ld <- ld + 2 * sum(log(diag(U))) }
    r2 <- yVy - sum(XVy * solve(XVX, XVy))
    ld + r2 + (if (reml) as.numeric(determinant(XVX)$modulus) + (n - p) * log(2 * pi) else n * log(2 * pi))
  }
  out <- list()
  for (reml in c(TRUE, FALSE)) {
    k <- if (het) T else 1
    best <- function(f, starts) { b <- list(objective = Inf)
      for (s in starts) { o <- tryCatch(nlminb(s, f, control = list(eval.max = 4000, iter.max = 3000, rel.tol = 1e-14)), error = function(e) list(objective = Inf)); if (o$objective < b$objective) b <- o }
      o <- optim(b$par, f, method = "BFGS", control = list(maxit = 3000, reltol = 1e-16)); if (o$value < b$objective) b <- list(par = o$par, objective = o$value); b }
    base <- c(rep(0, k), atanh(0.6))
    lim <- best(function(q) crit(q, reml, TRUE), list(base, c(rep(0.3, k), atanh(0.8))))
    free <- best(function(q) crit(q, reml), list(c(base, -1), c(base, -3), c(base, -6), c(lim$par, -8), c(rep(-0.5, k), atanh(0.9), -0.5)))
    out[[if (reml) "REML" else "ML"]] <- list(limit = -lim$objective / 2, free = -free$objective / 2, sigma = exp(free$par[k + 2]), rho = tanh(free$par[k + 1]))
    cat(nm, if (reml) "REML" else "ML", "limit", sprintf("%.10f", -lim$objective / 2), "free", sprintf("%.10f", -free$objective / 2), "sigma", exp(free$par[k + 2]), "rho", tanh(free$par[k + 1]), "\n")
  }
  res[[nm]] <- out
}
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), "/tmp/p10/rv10/early_dense.json")
