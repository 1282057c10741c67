# Dense ML profiles (sigma = 0 limit model, and sigma >= 0 free) of y ~ t + ar1(0 + tf|subject, hom=False) on early_b.csv:
# V_i = S R(rho) S (+ sig2 I). Roots of 2 dl = 3.8415 for s_1..s_5 and rho.
suppressMessages(library(jsonlite))
d <- read.csv("/tmp/p10/rv10/data/early_b.csv", stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
n <- nrow(d); X <- model.matrix(~t, d); p <- ncol(X); T <- max(d$t); blocks <- split(seq_len(n), d$subject)
dev <- function(q, lim) { s <- exp(q[1:T]); rho <- tanh(q[T + 1]); sg2 <- if (lim) 0 else exp(2 * q[T + 2])
  XVX <- 0; XVy <- 0; yVy <- 0; ld <- 0
  for (g in blocks) { tt <- d$t[g]; V <- outer(s[tt], s[tt]) * rho^abs(outer(tt, tt, "-")) + sg2 * diag(length(g))
    U <- tryCatch(chol(V), error = function(e) NULL); if (is.null(U)) return(1e10)
    Xw <- backsolve(U, X[g, , drop = FALSE], transpose = TRUE); yw <- backsolve(U, d$y[g], transpose = TRUE)
    XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2); ld <- ld + 2 * sum(log(diag(U))) }
  ld + yVy - sum(XVy * solve(XVX, XVy)) + n * log(2 * pi) }
opt <- function(f, starts) { b <- list(objective = Inf)
  for (s in starts) { o <- tryCatch(nlminb(s, f, control = list(eval.max = 3000, iter.max = 2000, rel.tol = 1e-13)), error = function(e) list(objective = Inf)); if (o$objective < b$objective) b <- o }; b }
ml <- opt(function(q) dev(q, TRUE), list(c(rep(0, T), atanh(0.5)), c(rep(0.2, T), atanh(0.3))))
mlf <- opt(function(q) dev(q, FALSE), list(c(ml$par, -8), c(ml$par, -2)))
dmin <- min(ml$objective, mlf$objective)
cat("ML limit", -ml$objective / 2, "free", -mlf$objective / 2, "sds", exp(ml$par[1:T]), "rho", tanh(ml$par[T + 1]), "\n")
prof <- function(w, v, lim) { k <- if (lim) T + 1 else T + 2
  f <- function(r) { q <- numeric(k); q[w] <- if (w <= T) log(v) else atanh(v); q[-w] <- r; dev(q, lim) }
  base <- if (lim) ml$par else mlf$par; if (!lim) { b2 <- base; b2[T + 2] <- -1 } else b2 <- base + 0.1
  opt(f, list(base[-w], b2[-w]))$objective - dmin }
out <- list(sds = exp(ml$par[1:T]), rho = tanh(ml$par[T + 1]))
for (lim in c(TRUE, FALSE)) for (w in 1:(T + 1)) {
  e <- if (w <= T) exp(ml$par[w]) else tanh(ml$par[w]); g <- function(v) prof(w, v, lim) - qchisq(0.95, 1)
  if (w <= T) { lo <- tryCatch(uniroot(g, c(e / 10, e), tol = 1e-7)$root, error = function(err) NA); hi <- tryCatch(uniroot(g, c(e, e * 4), tol = 1e-7)$root, error = function(err) NA) }
  else { lo <- tryCatch(uniroot(g, c(-0.95, e), tol = 1e-8)$root, error = function(err) NA); hi <- tryCatch(uniroot(g, c(e, 0.999), tol = 1e-8)$root, error = function(err) NA) }
  nm <- paste(if (w <= T) paste0("s", w) else "rho", if (lim) "limit" else "model", sep = "_"); out[[nm]] <- c(lo, hi); cat(nm, lo, hi, "\n") }
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "/tmp/p10/rv10/early_b_prof.json")
