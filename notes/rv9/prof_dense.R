a <- read.csv("/tmp/p9/rv9/data/ar1hi.csv", stringsAsFactors=FALSE)
a <- a[order(a$subject, a$t),]; X <- model.matrix(~t, a); subj <- split(seq_len(nrow(a)), a$subject)
T <- 8; H <- abs(outer(1:T, 1:T, "-"))
reml <- function(tau, s, rho, nug=0) { V <- tau^2 + s^2 * rho^H + diag(nug^2, T); L <- chol(V)
  p <- 2; n <- nrow(a); A <- matrix(0,p,p); bb <- numeric(p); ld <- 0
  for (i in subj) { Xi <- backsolve(L, X[i,], transpose=TRUE); yi <- backsolve(L, a$y[i], transpose=TRUE)
    A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2*sum(log(diag(L))) }
  beta <- solve(A, bb); q <- 0
  for (i in subj) { r <- backsolve(L, a$y[i] - X[i,] %*% beta, transpose=TRUE); q <- q + sum(r^2) }
  -0.5*(ld + as.numeric(determinant(A)$modulus) + q + (n-p)*log(2*pi)) }
prof <- function(s, nugget) { best <- -Inf
  for (t0 in c(0.01, 0.5, 1, 1.5)) for (r0 in c(0.5, 0.9, 0.98)) for (n0 in if (nugget) c(0.01, 0.3) else 0) {
    par <- c(t0, atanh(r0), n0)
    fn <- function(p) { v <- tryCatch(reml(abs(p[1]), s, tanh(p[2]), if (nugget) abs(p[3]) else 0), error=function(e) -1e10); -v }
    o <- optim(par, fn, control=list(reltol=1e-14, maxit=5000)); o <- optim(o$par, fn, control=list(reltol=1e-14, maxit=5000))
    if (-o$value > best) best <- -o$value }
  best }
l0 <- max(prof(1.232736, FALSE), prof(1.232736, TRUE)); cat("max", sprintf("%.8f", l0), "\n")
for (s in c(0.446182, 0.6, 0.8, 0.995104, 1.1, 1.341674, 1.45, 1.575006))
  cat(sprintf("s=%.6f  subset(no nugget) 2dl=%.4f   superset(nugget) 2dl=%.4f\n", s, 2*(l0-prof(s, FALSE)), 2*(l0-prof(s, TRUE))))
