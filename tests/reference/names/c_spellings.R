# R's C(f, ...) (issue 12 naming corner; stats::C): names, values of the design columns and the
# lmer estimates for each spelling of the contrasts. C(f) with no contrasts keeps the call,
# `C(recipe)B`; C() takes the contrasts by a bare abbreviation (treatment, sum, helmert, poly,
# SAS: the contrast function *by name*, called with the levels, so treatment/SAS columns are
# named after the levels), a string, a contr.* function (called with the number of levels:
# `C(recipe, contr.treatment)2`), an R call contr.treatment(3, base = 2), how.many (the first
# columns only), further arguments for the function, or a matrix from the environment (M, Mn:
# stored under "context" for the test). Stored for tests/test_c_names.py.
# Run from the project root: Rscript tests/reference/names/c_spellings.R
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
ck <- read.csv("mixedfit/io/datasets/data/cake.csv")
ck$recipe <- factor(ck$recipe)
ck$replicate <- factor(ck$replicate)
M <- cbind(a = c(1, 0, -1), b = c(-0.5, 1, -0.5))  # named columns
Mn <- cbind(c(2, -1, -1), c(0, 1, -1))           # unnamed: numbered
formulas <- c(
  plain = "angle ~ C(recipe) + temp + (1 | replicate)",
  contr_sum = "angle ~ C(recipe, contr.sum) + temp + (1 | replicate)",
  treatment = "angle ~ C(recipe, treatment) + temp + (1 | replicate)",
  sum = "angle ~ C(recipe, sum) + temp + (1 | replicate)",
  helmert = "angle ~ C(recipe, helmert) + temp + (1 | replicate)",
  poly = "angle ~ C(recipe, poly) + temp + (1 | replicate)",
  SAS = "angle ~ C(recipe, SAS) + temp + (1 | replicate)",
  string = "angle ~ C(recipe, \"contr.treatment\") + temp + (1 | replicate)",
  contr_treatment = "angle ~ C(recipe, contr.treatment) + temp + (1 | replicate)",
  contr_SAS = "angle ~ C(recipe, contr.SAS) + temp + (1 | replicate)",
  r_call = "angle ~ C(recipe, contr.treatment(3, base = 2)) + temp + (1 | replicate)",
  r_call_levels = "angle ~ C(recipe, contr.treatment(c(\"A\", \"B\", \"C\"), base = 3)) + temp + (1 | replicate)",
  r_call_full = "angle ~ C(recipe, contr.sum(3, contrasts = FALSE)) + temp + (1 | replicate)",
  dots = "angle ~ C(recipe, contr.treatment, base = 2) + temp + (1 | replicate)",
  dots_only = "angle ~ C(recipe, base = 2) + temp + (1 | replicate)",
  how_many_all = "angle ~ C(recipe, sum, 2) + temp + (1 | replicate)",
  how_many_one = "angle ~ C(recipe, poly, 1) + temp + (1 | replicate)",
  how_many_treatment = "angle ~ C(recipe, treatment, 1) + temp + (1 | replicate)",
  how_many_keyword = "angle ~ C(recipe, helmert, how.many = 1) + temp + (1 | replicate)",
  keyword = "angle ~ C(recipe, contr = sum) + temp + (1 | replicate)",
  matrix = "angle ~ C(recipe, M) + temp + (1 | replicate)",
  matrix_unnamed = "angle ~ C(recipe, Mn) + temp + (1 | replicate)",
  matrix_how_many = "angle ~ C(recipe, M, 1) + temp + (1 | replicate)",
  no_intercept = "angle ~ 0 + C(recipe, sum) + temp + (1 | replicate)",
  interaction = "angle ~ C(recipe, helmert) * temp + (1 | replicate)"
)
first <- match(levels(ck$recipe), ck$recipe)  # the first row of each level
out <- lapply(formulas, function(f) {
  m <- lmer(as.formula(f), ck, REML = TRUE)
  X <- getME(m, "X")
  list(formula = f, fixef = I(names(fixef(m))), beta = unname(fixef(m)),
       rows = I(first - 1L), X = unname(X[first, , drop = FALSE]))
})
out$context <- list(M = unname(M), M_columns = I(colnames(M)), Mn = unname(Mn))
out$engine <- paste("lme4", packageVersion("lme4"))
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, matrix = "rowmajor"),
      "tests/reference/names/c_spellings.json")
