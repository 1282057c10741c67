# nlme's gls with an exponential spatial correlation within subjects, on data whose range runs far
# beyond 1e5 times the span of the times (tests/test_residual_spatial_blocks.py). Each set: 30
# subjects, 6 of 12 times, y = 1 + 0.2 t + e with Cov(e) = A - |s - t| + 0.01 I (a subject level of
# variance A around a random walk; A = 1e7, numpy seed 1: walk_levels_a.csv; A = 1e6, seed 3:
# walk_levels_b.csv). walk_levels_c.csv (A = 1e5, seed 2) with subject effects in X, REML: the
# range's ridge is flat (the σ²J part drops out); nlme's REML log-likelihood differs from
# mixedfit's by a constant of X, given by the independence model (same X) as "indep".
# Run in this directory: Rscript make_spatial_blocks.R
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
out <- list()
for (name in c("walk_levels_a", "walk_levels_b")) {
  d <- read.csv(paste0(name, ".csv"))
  for (nug in c(FALSE, TRUE)) {
    f <- gls(y ~ t, d, correlation = corExp(form = ~ t | id, nugget = nug), method = "ML")
    p <- coef(f$modelStruct$corStruct, unconstrained = FALSE)
    key <- paste0(name, if (nug) "_nugget" else "")
    out[[key]] <- list(loglik = as.numeric(logLik(f)), range = unname(p[1]),
                       nugget = if (nug) unname(p[2]) else NULL, sigma = f$sigma,
                       beta = as.list(coef(f)))
  }
}
d <- read.csv("walk_levels_c.csv")
f <- gls(y ~ id + t, d, correlation = corExp(form = ~ t | id, nugget = TRUE), method = "REML",
         control = glsControl(opt = "optim"))  # nlminb: "false convergence" on the ridge
p <- coef(f$modelStruct$corStruct, unconstrained = FALSE)
out$walk_levels_c_REML <- list(loglik = as.numeric(logLik(f)), range = unname(p[1]),
                               nugget = unname(p[2]),
                               indep = as.numeric(logLik(gls(y ~ id + t, d, method = "REML"))))
out$R <- R.version.string
out$nlme <- as.character(packageVersion("nlme"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "spatial_blocks.json")
