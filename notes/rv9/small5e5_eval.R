suppressMessages({library(jsonlite)})
s <- read.csv("/tmp/p9/rv9/data/small5e5.csv", stringsAsFactors=FALSE)
s$stratum <- factor(s$stratum); s <- s[order(s$subject, s$stratum),]
X <- model.matrix(~stratum + x, s); subj <- split(seq_len(nrow(s)), s$subject)
reml <- function(tau2, v) { p <- ncol(X); n <- nrow(s); A <- matrix(0,p,p); bb <- numeric(p); ld <- 0; Ls <- list()
  for (k in seq_along(subj)) { i <- subj[[k]]; g <- as.integer(s$stratum[i])
    # V_i = tau2 J + D: use Woodbury-free exact: chol
    L <- chol(matrix(tau2,length(i),length(i)) + diag(v[g])); Ls[[k]] <- L
    Xi <- backsolve(L, X[i,,drop=FALSE], transpose=TRUE); yi <- backsolve(L, s$y[i], transpose=TRUE)
    A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2*sum(log(diag(L))) }
  beta <- solve(A, bb); q <- 0
  for (k in seq_along(subj)) { i <- subj[[k]]; r <- backsolve(Ls[[k]], s$y[i] - X[i,,drop=FALSE] %*% beta, transpose=TRUE); q <- q + sum(r^2) }
  -0.5*(ld + as.numeric(determinant(A)$modulus) + q + (n-p)*log(2*pi)) }
pt <- fromJSON("/tmp/p9/rv9/small5e5_point.json")
for (k in names(pt)) { P <- pt[[k]]; r <- unlist(P$ratios)[c("A","B","C","D")]
  cat(k, "ours", sprintf("%.10f", P$loglik), "R dense at our point", sprintf("%.10f", reml(P$tau^2, (P$sigma*r)^2)), "\n") }
# and at nlme's optimum
suppressMessages(library(nlme))
f <- lme(y ~ stratum + x, random=~1|subject, data=s, weights=varIdent(form=~1|stratum), control=lmeControl(msTol=1e-14, tolerance=1e-10, niterEM=0))
w <- coef(f$modelStruct$varStruct, unconstrained=FALSE, allCoef=TRUE)[c("A","B","C","D")]
cat("nlme", sprintf("%.10f", logLik(f)), "dense at nlme point", sprintf("%.10f", reml(as.numeric(VarCorr(f)[1,1]), (f$sigma*w)^2)), "\n")
