# rv12b: dense REML of y ~ stratum * x + (1|Subject), VarIdent(stratum) on exactz_nB4.csv along theta = 0.5 delta
d <- read.csv("/tmp/p11/rv12b/exactz_nB4.csv")
X <- model.matrix(~ stratum * x, d); Z <- model.matrix(~ 0 + factor(Subject), d); y <- d$y; n <- nrow(d); p <- ncol(X)
reml <- function(theta, delta) {
  w <- ifelse(d$stratum == "B", delta, 1); V <- theta^2 * tcrossprod(Z) + diag(w^2)
  C <- chol(V); Xw <- backsolve(C, X, transpose = TRUE); yw <- backsolve(C, y, transpose = TRUE)
  q <- qr(Xw); r <- qr.resid(q, yw); r2 <- sum(r^2)
  -0.5 * ((n - p) * (1 + log(2 * pi * r2 / (n - p))) + 2 * sum(log(diag(C))) + 2 * sum(log(abs(diag(qr.R(q))))))
}
cat("at mixedfit's optimum (theta 0.844078, delta 0.491293):", format(reml(0.694879 / 0.823243, 0.491293), digits = 10), "\n")
for (dl in 10^-(1:8)) cat("delta", dl, "theta = delta/2: REML loglik", format(reml(dl / 2, dl), digits = 10), "\n")
o <- optim(c(log(0.84), log(0.49)), function(p) -reml(exp(p[1]), exp(p[2])), control = list(reltol = 1e-14, maxit = 5000))
cat("optim from mixedfit's point: loglik", -o$value, "theta", exp(o$par[1]), "delta", exp(o$par[2]), "\n")
