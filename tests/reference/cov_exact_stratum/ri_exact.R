# A VarIdent stratum fitted exactly by the fixed effects, with a random intercept (lane exact2): ri_exact.csv is
# hdf_vanished.csv plus g = "g<i mod 6>" (B's 3 rows in levels g0, g1, g2, so rank [Z_B X_B] = 3 = n_B). Model
# y ~ stratum * x + (1 | g), VarIdent(stratum). The dense criterion from the Householder QR of the whitened augmented
# [Z theta, X, y] / s over [I, 0, 0] (rows by decreasing norm, no pivoting; lme4's profiled REML/ML deviance with
# log|Lambda_R| added), profiled over theta in [0, 5] at ratios 10^-1 .. 10^-14: at theta = 0 it falls by
# 2 (n_B - rank X_B) log 10 per decade (REML; ML 2 n_B log 10) without bound, at theta = 0.5 it is bounded:
# the likelihood has no maximum (its supremum at theta = 0, ratio -> 0). Run (in this directory): Rscript ri_exact.R
suppressMessages(library(jsonlite))
d <- read.csv("ri_exact.csv"); d$stratum <- factor(d$stratum); d$g <- factor(d$g)
X <- model.matrix(~ stratum * x, d); y <- d$y; n <- length(y); p <- ncol(X); B <- d$stratum == "B"
Z <- model.matrix(~ 0 + g, d); q <- ncol(Z)
dev <- function(theta, eta, reml) {
  s <- ifelse(B, exp(eta), 1)
  A <- rbind(cbind(Z * theta, X, y) / s, cbind(diag(q), matrix(0, q, p + 1)))
  A <- A[order(-rowSums(A^2)), ]
  qq <- qr(A, tol = 0); stopifnot(all(qq$pivot == 1:(q + p + 1)))
  dg <- abs(diag(qr.R(qq))); ld <- 2 * sum(log(s)) + 2 * sum(log(dg[1:q]))
  r2 <- dg[q + p + 1]^2
  if (reml) ld + 2 * sum(log(dg[q + 1:p])) + (n - p) * (1 + log(2 * pi * r2 / (n - p)))
  else ld + n * (1 + log(2 * pi * r2 / n))
}
out <- list()
for (m in c("REML", "ML")) {
  reml <- m == "REML"; k <- 1:14
  pr <- t(sapply(k, function(j) { o <- optimize(function(t) dev(t, -j * log(10), reml), c(0, 5), tol = 1e-10)
    c(theta = o$minimum, dev = o$objective, dev_theta0 = dev(0, -j * log(10), reml), dev_theta_half = dev(0.5, -j * log(10), reml)) }))
  out[[m]] <- list(log10_ratio = -k, theta_hat = pr[, 1], profile_deviance = pr[, 2], deviance_theta0 = pr[, 3], deviance_theta_half = pr[, 4])
  print(cbind(k = -k, pr))
}
writeLines(toJSON(out, digits = NA, pretty = TRUE), "ri_exact.json")
