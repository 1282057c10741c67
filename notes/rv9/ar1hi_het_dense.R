a <- read.csv("/tmp/p9/rv9/data/ar1hi.csv", stringsAsFactors=FALSE); a <- a[order(a$subject, a$t),]
X <- model.matrix(~t, a); subj <- split(seq_len(nrow(a)), a$subject); H <- abs(outer(1:8,1:8,"-")); n <- nrow(a); p <- 2
reml <- function(q) { tau <- exp(q[1]); s <- exp(q[2:9]); rho <- tanh(q[10])
  V <- tau^2 + outer(s, s) * rho^H; L <- tryCatch(chol(V), error=function(e) NULL); if (is.null(L)) return(1e10)
  A <- matrix(0,p,p); bb <- numeric(p); ld <- 0
  for (i in subj) { Xi <- backsolve(L, X[i,], transpose=TRUE); yi <- backsolve(L, a$y[i], transpose=TRUE); A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2*sum(log(diag(L))) }
  b <- solve(A, bb); r2 <- 0; for (i in subj) { r <- backsolve(L, a$y[i] - X[i,] %*% b, transpose=TRUE); r2 <- r2 + sum(r^2) }
  0.5*(ld + as.numeric(determinant(A)$modulus) + r2 + (n-p)*log(2*pi)) }
best <- Inf; set.seed(2)
for (k in 1:12) { q0 <- c(rnorm(1, -1, 1.5), rnorm(8, 0.2, 0.3), atanh(runif(1, 0.8, 0.99))); o <- tryCatch(nlminb(q0, reml, control=list(iter.max=3000, eval.max=6000)), error=function(e) NULL); if (!is.null(o) && o$objective < best) { best <- o$objective; bq <- o$par } }
cat("dense REML at σ = 0 (RI + heterogeneous AR1):", sprintf("%.9f", -best), "tau", exp(bq[1]), "rho", tanh(bq[10]), "\n")
