suppressPackageStartupMessages({library(nlme); library(jsonlite)})
out <- list()
for (seed in 0:11) for (meth in c("REML", "ML")) {
  d <- read.csv(sprintf("/tmp/p13/rv18/car1/c%d.csv", seed))
  f <- tryCatch(lme(y ~ t, random = ~ 1 | id, data = d, correlation = corCAR1(form = ~ t | id), method = meth),
                error = function(e) NULL)
  key <- sprintf("c%d_%s", seed, meth)
  out[[key]] <- if (is.null(f)) list(error = TRUE, nocor = as.numeric(logLik(lme(y ~ t, random = ~ 1 | id, data = d, method = meth)))) else
    list(loglik = as.numeric(logLik(f)), Phi = unname(coef(f$modelStruct$corStruct, unconstrained = FALSE)), nocor = as.numeric(logLik(lme(y ~ t, random = ~ 1 | id, data = d, method = meth))))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "/tmp/p13/rv18/q1_car1_R.json")
