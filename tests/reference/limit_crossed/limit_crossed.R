# Reference for tests/test_limit_crossed.py: y ~ t + (1|item) + (1|subject) + ar1(0 + tf|subject) at the
# sigma -> 0 limit (item crossed with subject). Run from this directory: Rscript limit_crossed.R
suppressMessages(library(nlme))
out <- list()
for (seed in c(3, 7)) {
  d <- read.csv(sprintf("ar1hi_item%d.csv", seed), stringsAsFactors=FALSE)
  f <- lme(y ~ t, random=~1|subject, data=d, correlation=corAR1(form=~t|subject))
  nested <- as.numeric(logLik(f))
  d <- d[order(d$subject, d$t),]; n <- nrow(d); X <- model.matrix(~t, d)
  S <- outer(d$subject, d$subject, "=="); H <- abs(outer(d$t, d$t, "-")); I <- outer(d$item, d$item, "==")
  reml <- function(p) { tau2 <- exp(2*p[1]); s2 <- exp(2*p[2]); rho <- tanh(p[3]); vi <- exp(2*p[4])
    V <- tau2*S + s2*(rho^H)*S + vi*I; L <- tryCatch(chol(V), error=function(e) NULL); if (is.null(L)) return(1e10)
    Xw <- backsolve(L, X, transpose=TRUE); yw <- backsolve(L, d$y, transpose=TRUE); A <- crossprod(Xw); b <- solve(A, crossprod(Xw, yw))
    r <- yw - Xw %*% b; 0.5*(2*sum(log(diag(L))) + as.numeric(determinant(A)$modulus) + sum(r^2) + (n-2)*log(2*pi)) }
  best <- Inf; for (lv in c(-8, -3, -1)) { o <- nlminb(c(log(0.1), log(1.2), atanh(0.97), lv), reml); if (o$objective < best) { best <- o$objective; bp <- o$par } }
  out[[sprintf("seed%d", seed)]] <- list(nested_nlme = nested, dense = -best, dense_item_sd = exp(bp[4]))
}
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "limit_crossed.json")

# The exact crossed limit (tests/test_limit_crossed.py): seed 7 refitted densely at sigma = 0 by REML
# and ML in q = (tau, log s, atanh rho, item sd) (tau and the item sd linear, so 0 is reachable),
# from several starts with tight tolerances; beta, SE = sqrt(diag((X'V^-1X)^-1)), the item BLUPs
# v Z' V^-1 r and their conditional sds sqrt(diag(G - G Z'V^-1 Z G)), and the REML fit's
# Satterthwaite df as lmerTest computes them (df = 2 Var^2 / (g' (2 H^-1) g), H the Hessian of the
# unprofiled REML deviance and g the gradient of Var(beta_j), numDeriv; invariant to the
# parameterization).
source("../limit_df/sat_dense.R")  # sat_df_at, library(numDeriv) (path from this directory)
d <- read.csv("ar1hi_item7.csv", stringsAsFactors=FALSE)
d <- d[order(d$subject, d$t),]; n <- nrow(d); X <- model.matrix(~t, d); p <- ncol(X)
S <- outer(d$subject, d$subject, "=="); H <- abs(outer(d$t, d$t, "-")); I <- outer(d$item, d$item, "==")
Zi <- model.matrix(~0 + item, d)
Vof <- function(q) q[1]^2*S + exp(2*q[2])*(tanh(q[3])^H)*S + q[4]^2*I
parts <- function(q) { V <- Vof(q); L <- chol(V)
  Xw <- backsolve(L, X, transpose=TRUE); yw <- backsolve(L, d$y, transpose=TRUE); A <- crossprod(Xw)
  b <- solve(A, crossprod(Xw, yw)); r <- yw - Xw %*% b
  list(L=L, A=A, b=b, r2=sum(r^2), ld=2*sum(log(diag(L)))) }
dev <- function(q, reml) { s <- parts(q)
  s$ld + s$r2 + (if (reml) as.numeric(determinant(s$A)$modulus) + (n-p)*log(2*pi) else n*log(2*pi)) }
fits <- list()
for (reml in c(TRUE, FALSE)) {
  best <- NULL
  for (tau in c(0.05, 0.3)) for (vsd in c(0.005, 0.03)) {
    o <- nlminb(c(tau, log(1.2), atanh(0.97), vsd), dev, reml=reml,
                control=list(rel.tol=1e-15, x.tol=1e-12, eval.max=5000, iter.max=5000))
    if (is.null(best) || o$objective < best$objective) best <- o }
  q <- best$par; s <- parts(q); V <- Vof(q); Vinv_r <- solve(V, d$y - X %*% s$b)
  G <- q[4]^2 * diag(ncol(Zi)); blup <- G %*% crossprod(Zi, Vinv_r)
  condvar <- G - G %*% crossprod(Zi, solve(V, Zi)) %*% G
  vc <- solve(s$A)
  out1 <- list(loglik = -best$objective/2, tau = abs(q[1]), s = exp(q[2]), rho = tanh(q[3]),
               item_sd = abs(q[4]), beta = as.vector(s$b), se = sqrt(diag(vc)),
               item_blup = as.vector(blup), item_condsd = sqrt(diag(condvar)))
  if (reml) {
    # sat_df_at of ../limit_df/sat_dense.R (until session 12 a copy here), numDeriv step d = 0.01
    out1$df <- sat_df_at(function(q) dev(q, TRUE), function(q) solve(parts(q)$A), q, 0.01)$df
  }
  fits[[if (reml) "reml" else "ml"]] <- out1
}
out$seed7_fit <- fits
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "limit_crossed.json")
