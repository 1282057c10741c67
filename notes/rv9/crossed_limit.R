suppressMessages(library(nlme))
d <- read.csv("/tmp/p9/rv9/data/ar1hi_item.csv", stringsAsFactors=FALSE)
f <- lme(y ~ t, random=~1|subject, data=d, correlation=corAR1(form=~t|subject)); cat("nested limit (item var 0):", sprintf("%.10f", logLik(f)), "\n")
# dense: V = tau2 J_subj + s2 AR1 + v_item Z_item Z_item' (crossed, full n x n)
d <- d[order(d$subject, d$t),]; n <- nrow(d); X <- model.matrix(~t, d)
S <- outer(d$subject, d$subject, "=="); H <- abs(outer(d$t, d$t, "-")); I <- outer(d$item, d$item, "==")
reml <- function(p) { tau2 <- exp(2*p[1]); s2 <- exp(2*p[2]); rho <- tanh(p[3]); vi <- exp(2*p[4])
  V <- tau2*S + s2*(rho^H)*S + vi*I; L <- tryCatch(chol(V), error=function(e) NULL); if (is.null(L)) return(1e10)
  Xw <- backsolve(L, X, transpose=TRUE); yw <- backsolve(L, d$y, transpose=TRUE); A <- crossprod(Xw); b <- solve(A, crossprod(Xw, yw))
  r <- yw - Xw %*% b; 0.5*(2*sum(log(diag(L))) + as.numeric(determinant(A)$modulus) + sum(r^2) + (n-2)*log(2*pi)) }
best <- Inf; for (lv in c(-8, -3, -1)) { o <- nlminb(c(log(0.1), log(1.2), atanh(0.97), lv), reml); if (o$objective < best) { best <- o$objective; bp <- o$par } }
cat("dense crossed (σ = 0):", sprintf("%.10f", -best), "item sd", exp(bp[4]), "\n")
cat("dense at the optimum with item var -> 0 (sanity, must be <= nested):", sprintf("%.10f", -reml(c(bp[1:3], -30))), "\n")
o2 <- nlminb(c(bp[1:3]), function(q) reml(c(q, -30))); cat("dense maximized with item var 0 (must equal nested -55.9516042487):", sprintf("%.10f", -o2$objective), "\n")
