d <- read.csv("/tmp/p9/rv9/data/orth.csv", stringsAsFactors=FALSE); d <- d[order(d$Subject, d$age),]
X <- model.matrix(~Sex*age, d); subj <- split(seq_len(nrow(d)), d$Subject); H <- abs(outer(1:4,1:4,"-")); n <- nrow(d); p <- ncol(X)
reml <- function(q) { tau <- exp(q[1]); s <- exp(q[2:5]); rho <- tanh(q[6]); sig <- exp(q[7])
  V <- tau^2 + outer(s, s) * rho^H + diag(sig^2, 4); L <- tryCatch(chol(V), error=function(e) NULL); if (is.null(L)) return(1e10)
  A <- matrix(0,p,p); bb <- numeric(p); ld <- 0
  for (i in subj) { Xi <- backsolve(L, X[i,], transpose=TRUE); yi <- backsolve(L, d$distance[i], transpose=TRUE); A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2*sum(log(diag(L))) }
  b <- solve(A, bb); r2 <- 0; for (i in subj) { r <- backsolve(L, d$distance[i] - X[i,] %*% b, transpose=TRUE); r2 <- r2 + sum(r^2) }
  0.5*(ld + as.numeric(determinant(A)$modulus) + r2 + (n-p)*log(2*pi)) }
best <- Inf
set.seed(1); for (k in 1:25) { q0 <- c(rnorm(1, 0, 1), rnorm(4, 0, 0.7), atanh(runif(1, 0, 0.95)), rnorm(1, -0.5, 1)); o <- tryCatch(nlminb(q0, reml, control=list(iter.max=2000, eval.max=4000)), error=function(e) NULL); if (!is.null(o) && o$objective < best) { best <- o$objective; bq <- o$par } }
cat("dense REML max", sprintf("%.9f", -best), "tau", exp(bq[1]), "sds", exp(bq[2:5]), "rho", tanh(bq[6]), "sigma", exp(bq[7]), "\n")
