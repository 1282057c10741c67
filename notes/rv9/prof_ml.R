a <- read.csv("/tmp/p9/rv9/data/ar1hi.csv", stringsAsFactors=FALSE)
a <- a[order(a$subject, a$t),]; X <- model.matrix(~t, a); subj <- split(seq_len(nrow(a)), a$subject)
T <- 8; H <- abs(outer(1:T, 1:T, "-"))
ml <- function(tau, s, rho) { V <- tau^2 + s^2 * rho^H; L <- chol(V)
  p <- 2; n <- nrow(a); A <- matrix(0,p,p); bb <- numeric(p); ld <- 0
  for (i in subj) { Xi <- backsolve(L, X[i,], transpose=TRUE); yi <- backsolve(L, a$y[i], transpose=TRUE)
    A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2*sum(log(diag(L))) }
  beta <- solve(A, bb); q <- 0
  for (i in subj) { r <- backsolve(L, a$y[i] - X[i,] %*% beta, transpose=TRUE); q <- q + sum(r^2) }
  -0.5*(ld + q + n*log(2*pi)) }
prof <- function(s) { fn <- function(p) { v <- tryCatch(-ml(exp(p[1]), s, tanh(p[2])), error=function(e) 1e10); v }
  best <- Inf; for (lt in log(c(0.01, 0.3, 0.8, 1.1, 1.4))) for (ar in atanh(c(0.7, 0.85, 0.95, 0.98))) { o <- nlminb(c(lt, ar), fn); if (o$objective < best) best <- o$objective }; -best }
fnall <- function(p) -ml(exp(p[1]), exp(p[2]), tanh(p[3]))
best <- Inf; for (lt in log(c(0.01,0.5,1))) for (ls in log(c(0.8,1.2))) for (ar in atanh(c(0.9,0.98))) { o <- nlminb(c(lt, ls, ar), fnall); if (o$objective < best) { best <- o$objective; bp <- o$par } }
l0 <- -best; cat("ML max", sprintf("%.8f", l0), "tau", exp(bp[1]), "s", exp(bp[2]), "rho", tanh(bp[3]), "\n")
for (s in c(0.446182, 0.995104, 1.341674, 1.575006)) cat(sprintf("ML profile of the ar1 sd: s=%.6f 2dl=%.4f\n", s, 2*(l0-prof(s))))
g <- function(s) 2*(l0-prof(s)) - qchisq(0.95,1)
cat("ML profile interval of the ar1 sd:", uniroot(g, c(0.2, exp(bp[2])), tol=1e-6)$root, uniroot(g, c(exp(bp[2]), 3), tol=1e-6)$root, "\n")
