# rv21: Satterthwaite df at an AR(1) edge phi = e with one VarIdent stratum's residual variance at 0 (the edge's
# supremum per R's dense multistart r_<name>.json edge<e>_par), via tests/reference/limit_df/sat_dense.R (sourced).
# psi = (log sd_1..5 absolute, atanh rho, log sigma of the surviving stratum). 2 strata only.
# Rscript sat_edge.R name reml(0/1) e(+1/-1) vanished(a|b)
source("/work/main/tests/reference/limit_df/sat_dense.R")
library(jsonlite)
a <- commandArgs(TRUE); name <- a[1]; reml <- a[2] == "1"; e <- as.numeric(a[3]); van <- a[4]
d <- read.csv(sprintf("data/%s.csv", name), stringsAsFactors = FALSE)
r <- fromJSON(sprintf("r/r_%s.json", name)); key <- sprintf("edge%+d", e)
q <- r[[paste0(key, "_par")]]; sig <- r[[paste0(key, "_fit")]]$sigma  # sigma = a's sd, b's = sigma * exp(q[7])
Lag <- abs(outer(1:5, 1:5, "-"))
surv <- if (van == "a") log(sig) + q[7] else log(sig)
start <- c(q[1:5] + log(sig), q[6], surv)
Vfun <- function(psi, rows) {
  s <- exp(psi[1:5]); G <- outer(s, s) * tanh(psi[6])^Lag
  k <- d$occ[rows]; sv <- if (d$grp[rows[1]] == van) 0 else exp(psi[7])
  G[k, k, drop = FALSE] + sv^2 * e^abs(outer(k, k, "-"))
}
X <- cbind(1, d$x)
f <- sat_fit(X, d$y, d$Subject, Vfun, start, reml = reml)
cat(toJSON(list(name = name, reml = reml, edge = e, vanished = van, loglik = -f$opt$objective / 2, R_edge = r[[key]],
  psi = f$psi, beta = f$beta, se = sqrt(diag(f$vcov)), df = f$df, start_deviance = f$start_deviance), digits = NA, auto_unbox = TRUE), "\n")
