# (rv10 cr_b_prof.R; run in tests/reference/limit_profile: Rscript cr_b_prof.R -> cr_b_prof.json)
# Dense ML profiles of tau (subject intercept sd) and the item sd for cr_b.csv:
# V = tau2 J_subj + s2 rho^|dt| (within subject) + vi Z_item Z_item' + sig2 I; sig2 = 0 (limit model) and sig2 free.
suppressMessages(library(jsonlite))
d <- read.csv("cr_b.csv", stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
n <- nrow(d); X <- model.matrix(~t, d); p <- ncol(X)
S <- outer(d$subject, d$subject, "=="); H <- abs(outer(d$t, d$t, "-")); I <- outer(d$item, d$item, "==")
dev <- function(q, lim) { # q = log tau, log s, atanh rho, log item sd, [log sigma]
  V <- exp(2 * q[1]) * S + exp(2 * q[2]) * (tanh(q[3])^H) * S + exp(2 * q[4]) * I + (if (lim) 0 else exp(2 * q[5])) * diag(n)
  L <- tryCatch(chol(V), error = function(e) NULL); if (is.null(L)) return(1e10)
  Xw <- backsolve(L, X, transpose = TRUE); yw <- backsolve(L, d$y, transpose = TRUE)
  Rq <- qr.R(qr(cbind(Xw, yw))); 2 * sum(log(diag(L))) + Rq[p + 1, p + 1]^2 + n * log(2 * pi) }
opt <- function(f, starts) { b <- list(objective = Inf)
  for (s in starts) { o <- tryCatch(nlminb(s, f, control = list(eval.max = 3000, iter.max = 2000, rel.tol = 1e-13)), error = function(e) list(objective = Inf)); if (o$objective < b$objective) b <- o }; b }
st <- list(c(0, 0, atanh(0.8), log(0.1)), c(-1, 0.3, atanh(0.9), log(0.3)), c(0.3, -0.3, atanh(0.5), -3))
ml <- opt(function(q) dev(q, TRUE), st)
mlf <- opt(function(q) dev(q, FALSE), c(lapply(st, function(s) c(s, -2)), list(c(ml$par, -8))))
dmin <- min(ml$objective, mlf$objective)
cat("ML limit", -ml$objective / 2, "free", -mlf$objective / 2, "sds", exp(ml$par[c(1, 2, 4)]), "\n")
prof <- function(w, v, lim) { k <- if (lim) 4 else 5
  f <- function(r) { q <- numeric(k); q[w] <- log(v); q[-w] <- r; dev(q, lim) }
  base <- if (lim) ml$par else mlf$par
  starts <- list(base[-w], base[-w] + 0.2, base[-w] - 0.2)
  opt(f, starts)$objective - dmin }
out <- list()
for (w in c(1, 4)) for (lim in c(TRUE, FALSE)) {
  e <- exp(ml$par[w]); g <- function(v) prof(w, v, lim) - qchisq(0.95, 1)
  lo <- tryCatch(uniroot(g, c(e / 50, e), tol = 1e-7)$root, error = function(err) 0)
  hi <- tryCatch(uniroot(g, c(e, e * 6), tol = 1e-7)$root, error = function(err) NA)
  nm <- paste(c("tau", "", "", "item")[w], if (lim) "limit" else "model", sep = "_"); out[[nm]] <- c(lo, hi); cat(nm, lo, hi, "\n") }
for (v in c(0.227797, 1.219647)) cat("tau =", v, "2dl limit", prof(1, v, TRUE), "model", prof(1, v, FALSE), "\n")
for (v in c(0.412931)) cat("item =", v, "2dl limit", prof(4, v, TRUE), "model", prof(4, v, FALSE), "\n")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "cr_b_prof.json")
