# rv22: Satterthwaite df (tests/reference/limit_df/sat_dense.R, sourced) of y ~ x + ar1(0+occf|Subject, hom=FALSE)
# with an AR(1) residual (no VarIdent), refitted densely from mixedfit's estimate (start file).
# psi = (log sd_1..5, atanh rho, log sigma, atanh phi). Rscript sat_plain.R seed reml(0/1) start.json
source("/work/main/tests/reference/limit_df/sat_dense.R")
library(jsonlite)
a <- commandArgs(TRUE); seed <- a[1]; reml <- a[2] == "1"; st <- fromJSON(a[3])
d <- read.csv(sprintf("/tmp/p15/rv22/plain/p%s.csv", seed), stringsAsFactors = FALSE)
Lag <- abs(outer(1:5, 1:5, "-"))
Vfun <- function(psi, rows) {
  s <- exp(psi[1:5]); G <- outer(s, s) * tanh(psi[6])^Lag
  k <- d$occ[rows]
  G[k, k, drop = FALSE] + exp(2 * psi[7]) * tanh(psi[8])^abs(outer(k, k, "-"))
}
X <- cbind(1, d$x)
f <- sat_fit(X, d$y, d$Subject, Vfun, st, reml = reml)
cat(toJSON(list(seed = seed, reml = reml, loglik = -f$opt$objective / 2, psi = f$psi, beta = f$beta,
  se = sqrt(diag(f$vcov)), df = f$df, start_deviance = f$start_deviance), digits = NA, auto_unbox = TRUE), "\n")
