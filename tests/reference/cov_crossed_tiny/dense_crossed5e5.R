# Crossed random-effects terms at a tiny VarIdent ratio (lane crossray, issue 12): crossed5e5.csv
# (make_crossed5e5.py), y ~ stratum + x + (1 | subject) + (1 | item), residual = VarIdent(stratum).
# nlme cannot fit crossed terms: a dense REML in R instead, by Householder QR (LINPACK, no
# pivoting) of the rows whitened by the residual sds with the penalty rows below, rows sorted by
# decreasing norm (row-wise stable; cross products lose ~1e-16/δ² here). Parameters: the
# relative sds of subject and item (θ) and the stratum sd ratios B, C, D to A (δ); maximized by
# nlminb from three starts, then Nelder-Mead and BFGS from the best. Run from the repository root:
#   Rscript tests/reference/cov_crossed_tiny/dense_crossed5e5.R
suppressMessages(library(jsonlite))
here <- "tests/reference/cov_crossed_tiny"
d <- read.csv(file.path(here, "crossed5e5.csv"), stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
X <- model.matrix(~ stratum + x, d)
Zs <- model.matrix(~ 0 + factor(subject), d)
Zi <- model.matrix(~ 0 + factor(item), d)
n <- nrow(d); p <- ncol(X); q <- ncol(Zs) + ncol(Zi)
neg2 <- function(par, reml = TRUE) {
  th <- exp(par[1:2]); delta <- c(1, exp(par[3:5]))[as.integer(d$stratum)]
  W <- cbind(Zs * th[1], Zi * th[2], X, d$y) / delta
  A <- rbind(W, cbind(diag(q), matrix(0, q, p + 1)))
  A <- A[order(-rowSums(A^2)), ]
  f <- qr(A, tol = 0)
  stopifnot(all(f$pivot == seq_len(ncol(A))))
  R <- abs(diag(qr.R(f)))
  ldL2 <- 2 * sum(log(R[1:q])); ldRX <- 2 * sum(log(R[q + 1:p])); r2 <- R[q + p + 1]^2
  logdet <- 2 * sum(log(delta))
  if (reml) return(ldL2 + ldRX + (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet)
  ldL2 + n * (1 + log(2 * pi * r2 / n)) + logdet
}
starts <- list(c(log(2.3), 0, log(6e-5), log(1.7), log(0.85)),
               c(0, 0, log(1e-4), 0, 0), c(log(3), log(0.5), log(3e-5), log(2), log(1)))
best <- NULL
for (s in starts) {
  o <- nlminb(s, neg2, control = list(eval.max = 5000, iter.max = 5000, rel.tol = 1e-15))
  if (is.null(best) || o$objective < best$value) best <- list(par = o$par, value = o$objective)
}
for (m in c("Nelder-Mead", "BFGS")) {
  o <- optim(best$par, neg2, method = m, control = list(maxit = 20000, reltol = 1e-16))
  if (o$value < best$value) best <- list(par = o$par, value = o$value)
}
par <- best$par
th <- exp(par[1:2]); delta <- c(1, exp(par[3:5]))[as.integer(d$stratum)]
# β̂ and σ̂ at the optimum (GLS with V = σ² (Z G Z' + Λ_R) built densely: only for β, not ℓ)
V <- Zs %*% t(Zs) * th[1]^2 + Zi %*% t(Zi) * th[2]^2 + diag(delta^2)
beta <- solve(t(X) %*% solve(V, X), t(X) %*% solve(V, d$y))
points <- list(c(0.7, 0.3, log(5e-5), 0.5, -0.2), c(1, -0.5, log(2e-5), 0.1, 0.1))
out <- list(
  loglik = -best$value / 2, theta = th, ratios = exp(par[3:5]), beta = as.vector(beta),
  points = lapply(points, function(pt) list(log_theta = pt[1:2], ratios = exp(pt[3:5]),
                                           reml = neg2(pt), ml = neg2(pt, FALSE))),
  engine = paste(R.version.string, "dense QR (base qr, LINPACK)"))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "crossed5e5.json"))
print(out)
