# nlme's gls with a CAR(1) residual on car1_walk.csv (tests/test_residual_car1_inside.py):
# 30 subjects, 6 of 12 monthly times each, a random walk (y = 1 + 0.2 t + cumulative N(0, gap)
# steps + N(0, 0.05^2) noise; numpy seed 1). Run in this directory: Rscript make_car1_inside.R
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
d <- read.csv("car1_walk.csv")
out <- list()
for (reml in c(TRUE, FALSE)) {
  f <- gls(y ~ t, d, correlation = corCAR1(form = ~ t | id), method = if (reml) "REML" else "ML",
           control = glsControl(tolerance = 1e-10, msTol = 1e-10))
  phi <- unname(coef(f$modelStruct$corStruct, unconstrained = FALSE))
  key <- if (reml) "REML" else "ML"
  out[[key]] <- list(loglik = as.numeric(logLik(f)), Phi = phi, sigma = f$sigma,
                     beta = as.list(coef(f)))
  # the model at the bound Phi = 0 (independent rows)
  g <- gls(y ~ t, d, method = if (reml) "REML" else "ML")
  out[[paste0(key, "_bound")]] <- list(loglik = as.numeric(logLik(g)))
}
out$R <- R.version.string
out$nlme <- as.character(packageVersion("nlme"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "car1_walk.json")
