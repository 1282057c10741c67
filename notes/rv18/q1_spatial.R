# nlme corGaus / corExp (ML) on bound2's walk_levels_a/b (several subjects) for q1_spatial.py
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
dir <- "/work/wt-rv18/tests/reference/cov_spatial_blocks/"
out <- list()
for (name in c("walk_levels_a", "walk_levels_b")) {
  d <- read.csv(paste0(dir, name, ".csv"))
  for (nug in c(FALSE, TRUE)) {
    key <- paste0(name, "_gaus", if (nug) "_nugget" else "")
    f <- tryCatch(gls(y ~ t, d, correlation = corGaus(form = ~ t | id, nugget = nug), method = "ML"),
                  error = function(e) NULL)
    if (is.null(f)) {
      f <- tryCatch(gls(y ~ t, d, correlation = corGaus(form = ~ t | id, nugget = nug), method = "ML",
                        control = glsControl(opt = "optim")), error = function(e) conditionMessage(e))
      if (is.character(f)) { out[[key]] <- list(error = f); next }
      key <- paste0(key, "_optim")
    }
    p <- coef(f$modelStruct$corStruct, unconstrained = FALSE)
    out[[key]] <- list(loglik = as.numeric(logLik(f)), range = unname(p[1]),
                       nugget = if (nug) unname(p[2]) else NULL, beta = as.list(coef(f)))
  }
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "/tmp/p13/rv18/q1_spatial_R.json")
