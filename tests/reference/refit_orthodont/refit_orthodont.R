# lme4's refits of Orthodont `distance ~ age + (age | Subject)` (REML and ML) to 16 responses
# simulated by mixedfit (responses.csv: mixedfit.inference.bootstrap.simulate(fit, 16, seed=7)
# of the REML fit, rounded to 1e-10; then written as they are read here), for
# tests/test_refit_compiled.py. Run from this directory: Rscript refit_orthodont.R
suppressPackageStartupMessages(library(lme4))
d <- read.csv("responses.csv")
d$Subject <- factor(d$Subject)
ys <- grep("^y", names(d), value = TRUE)
num <- function(x) paste(sprintf("%.12g", x), collapse = ", ")
out <- character(0)
for (reml in c(TRUE, FALSE)) {
  for (y in ys) {
    f <- lmer(as.formula(paste(y, "~ age + (age | Subject)")), d, REML = reml,
              control = lmerControl(optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12)))
    out <- c(out, sprintf(
      '{"y": "%s", "reml": %s, "theta": [%s], "sigma": %.12g, "beta": [%s], "objective": %.12g, "singular": %s}',
      y, tolower(reml), num(getME(f, "theta")), sigma(f), num(fixef(f)),
      -2 * as.numeric(logLik(f)), tolower(isSingular(f))))
  }
}
writeLines(c("[", paste(out, collapse = ",\n"), "]"), "refits.json")
