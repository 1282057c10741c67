# rv21: Satterthwaite df of y ~ x + ar1(0+occf|Subject,hom=FALSE) + AR1 & VarIdent(grp) (2 strata a, b) from first
# principles (tests/reference/limit_df/sat_dense.R, sourced): at R's dense optimum r_<name>.json <src>, with phi free
# or held at an edge +1/-1, and a stratum's residual variance held at 0 (van = a|b) or not (none).
# psi = (log sd_1..5 absolute, atanh rho, log sigma of each stratum not held, atanh phi if free).
# Rscript sat_hold.R name reml(0/1) src(interior|edge+1|edge-1) van(a|b|none)
source("/work/main/tests/reference/limit_df/sat_dense.R")
library(jsonlite)
a <- commandArgs(TRUE); name <- a[1]; reml <- a[2] == "1"; src <- a[3]; van <- a[4]
d <- read.csv(sprintf("data/%s.csv", name), stringsAsFactors = FALSE)
r <- fromJSON(sprintf("r/r_%s.json", name))
q <- r[[paste0(src, "_par")]]; sig <- r[[paste0(src, "_fit")]]$sigma  # sigma: a's sd; b's = sigma * exp(q[7])
free <- src == "interior"; e <- if (free) NA else as.numeric(sub("edge", "", src))
Lag <- abs(outer(1:5, 1:5, "-"))
lsig <- c(a = log(sig), b = log(sig) + q[7]); keep <- setdiff(c("a", "b"), van)
start <- c(q[1:5] + log(sig), q[6], lsig[keep], if (free) q[8])
Vfun <- function(psi, rows) {
  s <- exp(psi[1:5]); G <- outer(s, s) * tanh(psi[6])^Lag
  g <- d$grp[rows[1]]; sv <- if (g %in% keep) exp(psi[6 + match(g, keep)]) else 0
  ph <- if (free) tanh(psi[7 + length(keep)]) else e
  k <- d$occ[rows]
  G[k, k, drop = FALSE] + sv^2 * ph^abs(outer(k, k, "-"))
}
X <- cbind(1, d$x)
f <- sat_fit(X, d$y, d$Subject, Vfun, start, reml = reml)
cat(toJSON(list(name = name, reml = reml, src = src, vanished = van, loglik = -f$opt$objective / 2, R_value = r[[src]],
  psi = f$psi, beta = f$beta, se = sqrt(diag(f$vcov)), df = f$df, start_deviance = f$start_deviance), digits = NA, auto_unbox = TRUE), "\n")
