# rv12a: dense REML/ML of y ~ stratum + x + (1|subject) + (1|item), VarIdent(stratum) (A, B),
# Householder QR of the whitened rows + penalty rows (as dense_crossed5e5.R). Args: csv ratio_guess
suppressMessages(library(jsonlite))
a <- commandArgs(TRUE); d <- read.csv(a[1], stringsAsFactors = FALSE); r0 <- as.numeric(a[2])
d$stratum <- factor(d$stratum, levels = c("A", "B"))
X <- model.matrix(~ stratum + x, d)
Zs <- model.matrix(~ 0 + factor(subject), d); Zi <- model.matrix(~ 0 + factor(item), d)
n <- nrow(d); p <- ncol(X); q <- ncol(Zs) + ncol(Zi)
neg2 <- function(par, reml = TRUE) {
  th <- exp(par[1:2]); delta <- c(1, exp(par[3]))[as.integer(d$stratum)]
  W <- cbind(Zs * th[1], Zi * th[2], X, d$y) / delta
  A <- rbind(W, cbind(diag(q), matrix(0, q, p + 1)))
  A <- A[order(-rowSums(A^2)), ]
  f <- qr(A, tol = 0)
  R <- abs(diag(qr.R(f)))
  ldL2 <- 2 * sum(log(R[1:q])); ldRX <- 2 * sum(log(R[q + 1:p])); r2 <- R[q + p + 1]^2
  logdet <- 2 * sum(log(delta))
  if (reml) return(ldL2 + ldRX + (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet)
  ldL2 + n * (1 + log(2 * pi * r2 / n)) + logdet
}
out <- list()
for (reml in c(TRUE, FALSE)) {
  best <- NULL
  for (s in list(c(0, 0, log(r0)), c(log(1.3), log(0.8), log(r0) + 1), c(1, -1, log(r0) - 1))) {
    o <- nlminb(s, neg2, reml = reml, control = list(eval.max = 5000, iter.max = 5000, rel.tol = 1e-15))
    if (is.null(best) || o$objective < best$value) best <- list(par = o$par, value = o$objective)
  }
  for (m in c("Nelder-Mead", "BFGS")) {
    o <- optim(best$par, neg2, reml = reml, method = m, control = list(maxit = 20000, reltol = 1e-16))
    if (o$value < best$value) best <- list(par = o$par, value = o$value)
  }
  out[[if (reml) "REML" else "ML"]] <- list(loglik = -best$value / 2, theta = exp(best$par[1:2]), ratio = exp(best$par[3]))
}
pts <- list(c(0.2, -0.3, log(r0)), c(0.5, 0.1, log(r0) + 0.7))
out$points <- lapply(pts, function(pt) list(log_theta = pt[1:2], ratio = exp(pt[3]), reml = neg2(pt), ml = neg2(pt, FALSE)))
cat(toJSON(out, auto_unbox = TRUE, digits = NA), "\n")
