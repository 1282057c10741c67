# R's REML fits of tests/test_relabel_gate.py: gls(y ~ x + visit) on small_first_visit.csv with
# CSH (corCompSymm & varIdent(~1|visit), also mixedfit's CS & VarIdent("visit")) and ARH1
# (corAR1 over the visits & varIdent(~1|visit)); v1 (the first row's) is nlme's reference.
# Rscript nlme_gls.R > nlme_gls.json   (in this directory)
suppressMessages(library(nlme))
d <- read.csv("small_first_visit.csv")
d$visit <- factor(d$visit)
ctl <- glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12)
one <- function(cor) {
  f <- gls(y ~ x + visit, d, correlation = cor, weights = varIdent(form = ~ 1 | visit),
           method = "REML", control = ctl)
  w <- coef(f$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  sprintf('{"loglik": %.12f, "sigma": %.10g, "corr": %.10g, "ratios": {%s}}', as.numeric(logLik(f)),
          f$sigma, coef(f$modelStruct$corStruct, unconstrained = FALSE)[[1]],
          paste(sprintf('"%s": %.10g', names(w), w), collapse = ", "))
}
cat(sprintf('{"CSH": %s,\n "ARH1": %s}\n', one(corCompSymm(form = ~ 1 | id)), one(corAR1(form = ~ 1 | id))))
