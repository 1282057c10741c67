# nlme REML fits of BodyWeight with a random intercept and a spatial correlation in Time within
# Rat (no nugget), for tests/test_residual_polish.py. Run from the repository root:
#   Rscript tests/reference/cov_spatial/make_spatial.R
# nlme's default optimizer stops early here ("iteration limit reached"), hence optim and the
# larger limits. Its exponential/spherical fits stop at a higher criterion than mixedfit's
# (a flat ridge in the range), so only the Gaussian fit is a reference for the optimum.
library(nlme)
library(jsonlite)
bw <- read.csv("tests/data/cov/bodyweight.csv")
bw$Rat <- factor(bw$Rat)
out <- list()
for (k in c("corGaus", "corExp", "corSpher")) {
  m <- lme(weight ~ Time, random = ~ 1 | Rat, correlation = get(k)(form = ~ Time | Rat),
           data = bw, method = "REML",
           control = lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, opt = "optim"))
  out[[k]] <- list(
    r = paste0("lme(weight ~ Time, random = ~1 | Rat, correlation = ", k,
               "(form = ~ Time | Rat), method = 'REML')"),
    objective = -2 * as.numeric(logLik(m)),
    range = unname(coef(m$modelStruct$corStruct, unconstrained = FALSE)),
    beta = unname(fixef(m))
  )
}
out$engine <- paste("nlme", packageVersion("nlme"))
write_json(out, "tests/reference/cov_spatial/bodyweight_spatial.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
