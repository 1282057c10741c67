# rv28: by_dense.R's criterion (tests/reference/cov_by_ar1/by_dense.R, first principles via sat_dense.R) at given points only.
# Run in tests/reference/cov_by_ar1: Rscript at.R data.csv points.json reml(0/1)
source("../limit_df/sat_dense.R"); library(jsonlite)
a <- commandArgs(TRUE); d <- read.csv(a[1], stringsAsFactors = FALSE); pts <- fromJSON(a[2], simplifyVector = FALSE)
reml <- a[3] == "1"; K <- 5
lv <- sort(unique(d$grp)); L <- length(lv); gi <- match(d$grp, lv)
X <- cbind(1, d$x); blocks <- split(seq_len(nrow(d)), d$Subject)
Vfun <- function(psi, rows) {
  s <- exp(psi[1:K]); G <- outer(s, s) * tanh(psi[K + 1])^abs(outer(1:K, 1:K, "-"))
  k <- d$occ[rows]; g <- gi[rows[1]]; sd <- exp(psi[K + 1 + g]); ph <- tanh(psi[K + 1 + L + g])
  G[k, k, drop = FALSE] + sd^2 * ph^abs(outer(k, k, "-"))
}
dev <- sat_deviance(sat_pieces(X, d$y, blocks, Vfun), nrow(d), ncol(X), reml)
psi_at <- function(p) c(log(unlist(p$sd)), atanh(p$rho), log(unlist(p$rsd)), atanh(unlist(p$phi)))
res <- list()
for (nm in names(pts)) res[[nm]] <- list(dense = -dev(psi_at(pts[[nm]])) / 2, mixedfit = pts[[nm]]$loglik)
f <- function(psi) { v <- tryCatch(dev(psi), error = function(e) Inf); if (is.finite(v)) v else 1e10 }





cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
