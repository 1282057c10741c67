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
