# y ~ t + (1 | id) with a residual exponential spatial correlation over x within id (REML), for
# tests/test_residual_spatial_ri_ridge.py. Run from the repository root:
#   Rscript tests/reference/spatial_ri_ridge/make_ri_ridge.R
# The data (bound2's "lin A=1e7 s2": 30 subjects x 6 of 12 integer times, covariance
# 1e7 - |t - s| + 0.01 I within a subject) put the optimum far out on the ridge where the
# random intercept trades with the correlation's sill. nlme's fits (nlminb, optim) stop at
# different points, both short of the supremum (~ -572.5775822 at a range ~ 9e6, by a profile
# of mixedfit's criterion; nlme's fits with the range held fixed there stop short in the sd).
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("tests/reference/spatial_ri_ridge/ri_ridge.csv")
ctl <- function(opt) lmeControl(maxIter = 1000, msMaxIter = 1000, opt = opt, msTol = 1e-12,
                                tolerance = 1e-10)
fit <- function(opt, cor) lme(y ~ t, random = ~ 1 | id, data = d, method = "REML",
                              correlation = cor, control = ctl(opt))
nlminb <- fit("nlminb", corExp(form = ~ x | id))
optim <- fit("optim", corExp(form = ~ x | id))
out <- list(
  id = "spatial_ri_ridge_reml",
  data = "ri_ridge.csv",
  engine = paste("nlme", packageVersion("nlme")),
  nlminb_loglik = as.numeric(logLik(nlminb)),
  nlminb_range = unname(coef(nlminb$modelStruct$corStruct, unconstrained = FALSE)),
  optim_loglik = as.numeric(logLik(optim))
)
write_json(out, "tests/reference/spatial_ri_ridge/ri_ridge.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
