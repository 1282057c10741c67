# R's names of the columns of C(f, ...) (issue 12 naming corner): C(f) with no contrasts keeps
# the call, `C(recipe)B`; R's C() also takes the contrasts by a bare abbreviation (treatment,
# sum, helmert, poly, SAS) and names the columns after the call as written. Stored for
# tests/test_c_names.py. Run from the project root: Rscript tests/reference/names/c_spellings.R
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
ck <- read.csv("mixedfit/io/datasets/data/cake.csv")
ck$recipe <- factor(ck$recipe)
ck$replicate <- factor(ck$replicate)
formulas <- c(
  plain = "angle ~ C(recipe) + temp + (1 | replicate)",
  contr_sum = "angle ~ C(recipe, contr.sum) + temp + (1 | replicate)",
  treatment = "angle ~ C(recipe, treatment) + temp + (1 | replicate)",
  sum = "angle ~ C(recipe, sum) + temp + (1 | replicate)",
  helmert = "angle ~ C(recipe, helmert) + temp + (1 | replicate)"
)
out <- lapply(formulas, function(f) {
  m <- lmer(as.formula(f), ck, REML = TRUE)
  list(formula = f, fixef = I(names(fixef(m))), beta = unname(fixef(m)))
})
out$engine <- paste("lme4", packageVersion("lme4"))
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/names/c_spellings.json")
