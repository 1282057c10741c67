# lme4's estimates of Orthodont `distance ~ age + (age | Subject)` (REML and ML): the balanced
# design whose moment start (mixedfit/engine/start.py) is the REML estimate when not floored.
# Run from this folder: Rscript orthodont_start.R
suppressMessages(library(lme4))
data(Orthodont, package = "nlme")
d <- as.data.frame(Orthodont)
out <- lapply(c(TRUE, FALSE), function(reml) {
  f <- lmer(distance ~ age + (age | Subject), d, REML = reml,
            control = lmerControl(optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14)))
  list(reml = reml, theta = unname(getME(f, "theta")), objective = if (reml) REMLcrit(f) else deviance(f),
       sigma = sigma(f))
})
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "orthodont_start.json")
