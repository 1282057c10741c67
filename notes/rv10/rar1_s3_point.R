
# R dense REML criterion (as make_rar1_edges.R's devb, V/sigma^2 = R(phi) + s s' rho^|k-l|) at mixedfit's
# REML point on rar1_s3.csv, and local nlminb from it with phi free.
library(jsonlite)
d <- read.csv("/tmp/p10/rv10/data/rar1_s3.csv", stringsAsFactors = FALSE)
n <- nrow(d); X <- cbind(1, d$x); y <- d$y; p <- 2; rows <- split(seq_len(n), d$Subject)
devb <- function(s, rho, phi) {
  XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0
  for (g in rows) { k <- d$occ[g]
    W <- phi^abs(outer(k, k, "-")) + outer(s[k], s[k]) * rho^abs(outer(k, k, "-"))
    C <- tryCatch(chol(W), error = function(e) NULL); if (is.null(C)) return(Inf)
    Xw <- backsolve(C, X[g, , drop = FALSE], transpose = TRUE); yw <- backsolve(C, y[g], transpose = TRUE)
    XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2); logdet <- logdet + 2 * sum(log(diag(C))) }
  beta <- solve(XVX, XVy); r2 <- yVy - sum(XVy * beta)
  (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet + as.numeric(determinant(XVX)$modulus)
}
py <- fromJSON("/tmp/p10/rv10/py_rar1.json")[["rar1_s3.REML"]]
th <- py$theta; phi <- py$params$Phi
cat("dense l at mixedfit's point:", -devb(th[1:5], th[6], phi) / 2, " mixedfit:", py$loglik, "\n")
f <- function(q) { v <- devb(exp(q[1:5]), tanh(q[6]), tanh(q[7])); if (is.finite(v)) v else 1e10 }
o <- nlminb(c(log(th[1:5]), atanh(th[6]), atanh(phi)), f, control = list(rel.tol = 1e-14, eval.max = 5000, iter.max = 3000))
cat("local nlminb from it:", -o$objective / 2, "phi", tanh(o$par[7]), "\n")
for (ph in c(0.9, 0.5, 0, -0.5, -0.9, -0.99, -0.999)) {
  g <- function(q) { v <- devb(exp(q[1:5]), tanh(q[6]), ph); if (is.finite(v)) v else 1e10 }
  og <- nlminb(c(log(th[1:5]), atanh(th[6])), g, control = list(rel.tol = 1e-12, eval.max = 3000, iter.max = 2000))
  cat("profile phi =", ph, ": l =", -og$objective / 2, "\n")
}
