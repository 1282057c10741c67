# (rv10 prof_dense.R; run in tests/reference/limit_profile: Rscript prof_a_dense.R -> prof_a_dense.json)
# Dense ML profile of y ~ t + (1|subject) + ar1(0 + tf|subject) on prof_a.csv:
# V = tau2 J + s2 rho^|dt| (within subject) + sig2 I, variances explicit; ML deviance (mixedfit profiles ML, as lme4).
# Profiles of tau, s, rho with sig2 free (>= 0: the model) and with sig2 = 0 (the limit model); roots of 2 dl = 3.8415.
suppressMessages(library(jsonlite))
d <- read.csv("prof_a.csv", stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
n <- nrow(d); X <- model.matrix(~t, d); p <- ncol(X)
S <- outer(d$subject, d$subject, "=="); H <- abs(outer(d$t, d$t, "-"))
dev <- function(tau, s, rho, sg) {
  V <- tau^2 * S + s^2 * (rho^H) * S + sg^2 * diag(n)
  L <- tryCatch(chol(V), error = function(e) NULL); if (is.null(L)) return(1e10)
  Xw <- backsolve(L, X, transpose = TRUE); yw <- backsolve(L, d$y, transpose = TRUE)
  Rq <- qr.R(qr(cbind(Xw, yw)))
  2 * sum(log(diag(L))) + Rq[p + 1, p + 1]^2 + n * log(2 * pi)
}
# full parameter vector q = (log tau, log s, atanh rho, log sg); sg = 0 when limit
full <- function(q, limit) dev(exp(q[1]), exp(q[2]), tanh(q[3]), if (limit) 0 else exp(q[4]))
opt <- function(f, starts) { b <- list(objective = Inf)
  for (s in starts) { o <- tryCatch(nlminb(s, f, control = list(eval.max = 3000, iter.max = 2000, rel.tol = 1e-13)), error = function(e) list(objective = Inf)); if (o$objective < b$objective) b <- o }
  b }
st <- list(c(0, 0, atanh(0.8), -1), c(-1, 0.3, atanh(0.9), -6), c(0.3, -0.3, atanh(0.5), -3), c(-3, 0, atanh(0.9), -10))
mfree <- opt(function(q) full(q, FALSE), st)
mlim <- opt(function(q) full(q[1:3], TRUE), lapply(st, function(s) s[1:3]))
cat("ML: free", -mfree$objective / 2, "sd", exp(mfree$par[c(1, 2, 4)]), "rho", tanh(mfree$par[3]), "\n")
cat("ML: limit", -mlim$objective / 2, "sd", exp(mlim$par[1:2]), "rho", tanh(mlim$par[3]), "\n")
dmin <- min(mfree$objective, mlim$objective)
prof <- function(which, val, limit) {  # which: 1 tau, 2 s, 3 rho (value on the natural scale)
  fix <- switch(which, log(val), log(val), atanh(val))
  k <- if (limit) 3 else 4
  f <- function(r) { q <- numeric(k); q[which] <- fix; q[-which] <- r; full(q, limit) }
  base <- if (limit) mlim$par else mfree$par
  starts <- list(base[-which], base[-which] + 0.2, base[-which] - 0.2)
  if (!limit) { s2 <- base[-which]; s2[length(s2)] <- -8; starts[[4]] <- s2; s3 <- base[-which]; s3[length(s3)] <- -1; starts[[5]] <- s3 }
  opt(f, starts)$objective - dmin
}
est <- c(exp(mlim$par[1:2]), tanh(mlim$par[3]))
out <- list(free_loglik = -mfree$objective / 2, limit_loglik = -mlim$objective / 2, est = est)
for (limit in c(TRUE, FALSE)) for (w in 1:3) {
  g <- function(v) prof(w, v, limit) - qchisq(0.95, 1)
  e <- est[w]
  lo <- if (w == 3) tryCatch(uniroot(g, c(max(-0.99, e - 0.9), e))$root, error = function(err) NA) else tryCatch(uniroot(g, c(e / 20, e))$root, error = function(err) NA)
  hi <- if (w == 3) tryCatch(uniroot(g, c(e, 0.99999))$root, error = function(err) NA) else tryCatch(uniroot(g, c(e, e * 5))$root, error = function(err) NA)
  nm <- paste(c("tau", "s", "rho")[w], if (limit) "limitmodel" else "fullmodel", sep = "_")
  out[[nm]] <- c(lo, hi); cat(nm, lo, hi, "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "prof_a_dense.json")
