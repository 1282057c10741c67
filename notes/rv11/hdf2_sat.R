# Dense Satterthwaite df (REML) for y ~ stratum*x, VarIdent(stratum), strata A (60) / B (4, genuine tiny sd); rv11
suppressMessages(library(numDeriv))
for (nz in c("1e-07", "1e-05", "0.001")) {
  d <- read.csv(sprintf("hdf2_%s.csv", nz)); d$stratum <- factor(d$stratum)
  X <- model.matrix(~ stratum * x, d); y <- d$y; n <- length(y); p <- ncol(X); B <- d$stratum == "B"
  wh <- function(psi) { s <- exp(psi[1]) * ifelse(B, exp(psi[2]), 1); W <- cbind(X, y) / s
    list(R = qr.R(qr(W)), ld = 2 * sum(log(s))) }
  dev <- function(psi) { w <- wh(psi); dg <- diag(w$R); w$ld + 2 * sum(log(abs(dg[1:p]))) + dg[p + 1]^2 + (n - p) * log(2 * pi) }
  vc <- function(psi) chol2inv(wh(psi)$R[1:p, 1:p])
  o <- nlminb(c(0, log(as.numeric(nz))), dev, control = list(rel.tol = 1e-15, x.tol = 1e-12))
  o2 <- optim(o$par, dev, method = "BFGS", control = list(reltol = 1e-16, maxit = 2000))
  psi <- if (o2$value < o$objective) o2$par else o$par
  H <- hessian(dev, psi, method.args = list(d = 0.02)); A <- 2 * solve(H)
  V0 <- vc(psi); df <- sapply(1:p, function(j) { g <- grad(function(q) vc(q)[j, j], psi, method.args = list(d = 0.02)); 2 * V0[j, j]^2 / sum(g * (A %*% g)) })
  cat(nz, "ll", -dev(psi) / 2, "ratio", exp(psi[2]), "df", signif(df, 6), "\n")
}
