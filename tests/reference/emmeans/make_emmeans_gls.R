# emmeans on an nlme gls fit with AR(1) residuals (Orthodont): R's default for gls is
# Satterthwaite df with the model-based covariance of beta, what mixedfit's ResidualMixedModel
# uses by default. Run from the repository root:
#   Rscript tests/reference/emmeans/make_emmeans_gls.R
suppressMessages({library(nlme); library(emmeans); library(jsonlite)})
o <- read.csv("tests/data/cov/orthodont.csv")
o$Sex <- factor(o$Sex, levels = c("Male", "Female"))
o$Subject <- factor(o$Subject)
o$occ <- (o$age - 8) / 2 + 1
m <- gls(distance ~ age * Sex, data = o, correlation = corAR1(form = ~ occ | Subject),
         method = "REML", control = glsControl(tolerance = 1e-10))
em <- summary(emmeans(m, "Sex"))
ct <- summary(pairs(emmeans(m, "Sex")))
out <- list(
  r = "emmeans(gls(distance ~ age * Sex, correlation = corAR1(form = ~ occ | Subject)), 'Sex')",
  loglik = as.numeric(logLik(m)),
  emmean = em$emmean, se = em$SE, df = em$df,
  contrast_estimate = ct$estimate, contrast_se = ct$SE, contrast_df = ct$df, contrast_p = ct$p.value,
  versions = paste("nlme", packageVersion("nlme"), "emmeans", packageVersion("emmeans"))
)
write_json(out, "tests/reference/emmeans/emmeans_gls.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
