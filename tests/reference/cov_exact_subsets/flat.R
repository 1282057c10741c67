# Review rv12b MEDIUM-1: REML with stratum B of 2 rows and its own intercept and slope
# (nb2.csv: A 60 rows, B 2 rows; y ~ stratum * x, varIdent(~ 1 | stratum)): the criterion is flat
# in B's ratio (B's rows enter no error contrast), nlme::gls with B's ratio fixed.
# Run from this directory: Rscript flat.R > flat.json
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("nb2.csv"); d$stratum <- factor(d$stratum)
ratios <- c(0.01, 1.051, 100)
out <- lapply(ratios, function(r) {
  g <- gls(y ~ stratum * x, d, weights = varIdent(form = ~ 1 | stratum, fixed = c(B = r)), method = "REML")
  list(ratio = r, loglik = as.numeric(logLik(g)), se = unname(sqrt(diag(vcov(g)))))
})
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "\n")
