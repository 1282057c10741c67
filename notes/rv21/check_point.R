# rv21: the ML log-likelihood of a fitted point (absolute G, per-stratum residual sd, AR(1) phi) from first principles
# (sat_pieces/sat_deviance of tests/reference/limit_df/sat_dense.R, sourced). Rscript check_point.R data.csv point.json reml(0/1)
source("/work/main/tests/reference/limit_df/sat_dense.R"); library(jsonlite)
a <- commandArgs(TRUE); d <- read.csv(a[1], stringsAsFactors = FALSE); pt <- fromJSON(a[2]); reml <- a[3] == "1"
G <- pt$G; sd <- c(a = pt$sa, b = pt$sb)
Vfun <- function(psi, rows) { k <- d$occ[rows]; s <- sd[[d$grp[rows[1]]]]; G[k, k, drop = FALSE] + s^2 * pt$phi^abs(outer(k, k, "-")) }
X <- cbind(1, d$x); blocks <- split(seq_len(nrow(d)), d$Subject)
dev <- sat_deviance(sat_pieces(X, d$y, blocks, Vfun), nrow(d), 2, reml)
cat(sprintf("%s: dense loglik %.12f, mixedfit reported %.12f\n", a[2], -dev(0) / 2, pt$loglik))
