d <- read.csv("/tmp/p9/rv9/data/van3.csv", stringsAsFactors=FALSE); d$stratum <- factor(d$stratum); d <- d[order(d$subject, d$stratum),]
X <- model.matrix(~stratum + x, d); subj <- split(seq_len(nrow(d)), d$subject); n <- nrow(d); p <- ncol(X)
f <- function(par) { Lg <- matrix(c(par[1], par[2], 0, par[3]), 2); G <- Lg %*% t(Lg); v <- par[4:7]
  A <- matrix(0,p,p); bb <- numeric(p); ld <- 0; Ls <- list(); k <- 0
  for (i in subj) { k <- k + 1; Z <- cbind(1, d$x[i]); V <- Z %*% G %*% t(Z) + diag(v[as.integer(d$stratum[i])]); L <- tryCatch(chol(V), error=function(e) NULL); if (is.null(L)) return(1e10); Ls[[k]] <- L
    Xi <- backsolve(L, X[i,], transpose=TRUE); yi <- backsolve(L, d$y[i], transpose=TRUE); A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2*sum(log(diag(L))) }
  b <- tryCatch(solve(A, bb), error=function(e) NULL); if (is.null(b)) return(1e10); r2 <- 0; k <- 0
  for (i in subj) { k <- k + 1; r <- backsolve(Ls[[k]], d$y[i] - X[i,] %*% b, transpose=TRUE); r2 <- r2 + sum(r^2) }
  0.5*(ld + as.numeric(determinant(A)$modulus) + r2 + (n-p)*log(2*pi)) }
best <- Inf
for (st in list(c(1.5, 0, 0.5, 1, 0.5, 0.01, 3.3), c(1, 0.1, 0.3, 0.8, 0.8, 0.001, 4), c(2, -0.2, 0.6, 1.2, 0.3, 0, 2.5))) {
  lo <- c(1e-6, -10, 1e-6, 0, 0, 0, 0)
  o <- optim(st, f, method="L-BFGS-B", lower=lo, control=list(factr=1e1, maxit=5000)); for (r in 1:3) o <- optim(o$par, f, method="L-BFGS-B", lower=lo, control=list(factr=1e1, maxit=5000))
  if (o$value < best) { best <- o$value; bp <- o$par } }
cat("dense REML (variances bounded at 0):", sprintf("%.9f", -best), "sds", sqrt(bp[4:7]), "\n")
o2 <- nlminb(bp[1:3], function(q) f(c(q, bp[4:5], 0, bp[7]))); o3 <- optim(c(o2$par, bp[4:5], bp[7]), function(q) f(c(q[1:5], 0, q[6])), method="L-BFGS-B", lower=c(1e-6,-10,1e-6,0,0,0), control=list(factr=1e1, maxit=5000))
cat("dense REML with C's variance exactly 0:", sprintf("%.9f", -o3$value), "\n")
