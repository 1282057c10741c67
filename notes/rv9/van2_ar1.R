d <- read.csv("/tmp/p9/rv9/data/van2.csv", stringsAsFactors=FALSE); d$stratum <- factor(d$stratum); d <- d[order(d$subject, d$stratum),]
X <- model.matrix(~stratum + x, d); subj <- split(seq_len(nrow(d)), d$subject); n <- nrow(d); p <- ncol(X); H <- abs(outer(1:5,1:5,"-"))
ll <- function(par) { tau2 <- par[1]; rho <- par[2]; v <- par[3:7]; sd <- sqrt(v)
  V <- tau2 + outer(sd, sd) * rho^H; L <- tryCatch(chol(V), error=function(e) NULL); if (is.null(L)) return(1e10)
  A <- matrix(0,p,p); bb <- numeric(p); ld <- 0
  for (i in subj) { Xi <- backsolve(L, X[i,], transpose=TRUE); yi <- backsolve(L, d$y[i], transpose=TRUE); A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2*sum(log(diag(L))) }
  b <- tryCatch(solve(A, bb), error=function(e) NULL); if (is.null(b)) return(1e10); r2 <- 0
  for (i in subj) { r <- backsolve(L, d$y[i] - X[i,] %*% b, transpose=TRUE); r2 <- r2 + sum(r^2) }
  0.5*(ld + as.numeric(determinant(A)$modulus) + r2 + (n-p)*log(2*pi)) }
best <- Inf
for (st in list(c(1.6, 0.1, 0.9, 0.6, 0.01, 3.6, 0.6), c(1, 0.3, 1, 1, 0.1, 1, 1), c(2, -0.2, 0.5, 0.5, 0.001, 2, 0.5))) {
  o <- optim(st, ll, method="L-BFGS-B", lower=c(1e-6, -0.99, 0, 0, 0, 0, 0), upper=c(100, 0.99, 100, 100, 100, 100, 100), control=list(factr=1e1, maxit=5000))
  for (r in 1:3) o <- optim(o$par, ll, method="L-BFGS-B", lower=c(1e-6, -0.99, 0, 0, 0, 0, 0), upper=c(100, 0.99, 100, 100, 100, 100, 100), control=list(factr=1e1, maxit=5000))
  if (o$value < best) { best <- o$value; bp <- o$par } }
cat("dense REML (variances bounded at 0):", sprintf("%.9f", -best), "rho", bp[2], "sds", sqrt(bp[3:7]), "\n")
