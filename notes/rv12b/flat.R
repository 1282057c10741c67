# REML with stratum B of 2 rows and its own intercept and slope: the criterion is flat in B's ratio
suppressMessages(library(nlme))
set.seed(1)
d <- read.csv("/tmp/p11/rv12b/nb2.csv"); d$stratum <- factor(d$stratum)
for (r in c(0.01, 1.051, 100)) {
  g <- gls(y ~ stratum * x, d, weights = varIdent(form = ~ 1 | stratum, fixed = c(B = r)), method = "REML")
  cat("ratio", r, "REML logLik", format(as.numeric(logLik(g)), digits = 12), "SE(stratumB)", sqrt(diag(vcov(g)))[2], "\n")
}
