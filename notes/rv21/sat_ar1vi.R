# rv21: Satterthwaite df of y ~ x + ar1(0+occf|Subject,hom=FALSE) + AR1 & VarIdent(grp) at R's dense optimum
# (r_<name>.json interior_par), from first principles via tests/reference/limit_df/sat_dense.R (sourced).
# psi = (log sd_1..5 absolute, atanh rho, log sigma per stratum (a, b[, c]), atanh phi).
# Rscript sat_ar1vi.R name reml(0/1) [where=interior]
source("/work/main/tests/reference/limit_df/sat_dense.R")
library(jsonlite)
a <- commandArgs(TRUE); name <- a[1]; reml <- a[2] == "1"
d <- read.csv(sprintf("data/%s.csv", name), stringsAsFactors = FALSE)
r <- fromJSON(sprintf("r/r_%s.json", name))
q <- r$interior_par; sig <- r$interior_fit$sigma
lv <- sort(unique(d$grp)); nvi <- length(lv) - 1
Lag <- abs(outer(1:5, 1:5, "-"))
start <- c(q[1:5] + log(sig), q[6], log(sig), log(sig) + q[7:(6 + nvi)], q[7 + nvi])
Vfun <- function(psi, rows) {
  s <- exp(psi[1:5]); G <- outer(s, s) * tanh(psi[6])^Lag
  k <- d$occ[rows]; g <- match(d$grp[rows[1]], lv); sv <- exp(psi[6 + g]); ph <- tanh(psi[7 + length(lv)])
  G[k, k, drop = FALSE] + sv^2 * ph^abs(outer(k, k, "-"))
}
X <- cbind(1, d$x)
f <- sat_fit(X, d$y, d$Subject, Vfun, start, reml = reml)
cat(toJSON(list(name = name, reml = reml, loglik = -f$opt$objective / 2, R_interior = r$interior, psi = f$psi,
  beta = f$beta, se = sqrt(diag(f$vcov)), df = f$df, start_deviance = f$start_deviance), digits = NA, auto_unbox = TRUE), "\n")
