# R's names of fixed effects, random-effect columns and anova term labels (issue 13 §2): for each
# formula, lmer (REML) is fitted and names(fixef(m)), colnames(ranef(m)[[g]]) per grouping factor,
# attr(terms(m), "term.labels") and rownames(anova(m)) are stored in names.json. A case may give
# `ours` (the formula mixedfit is given, when R's spelling differs, e.g. formulaic's C(f, Sum) for
# R's contrasts = list(f = "contr.sum")) and `contrasts` (passed to lmer).
# Run from the project root: Rscript tests/reference/names/make_names.R  (lme4 1.1-31)
suppressPackageStartupMessages({library(lme4); library(jsonlite); library(splines)})

ss <- read.csv("mixedfit/io/datasets/data/sleepstudy.csv")
ss$Subject <- factor(ss$Subject)
ss$Days.num <- ss$Days + 1
od <- read.csv("mixedfit/io/datasets/data/orthodont.csv")
od$Sex <- factor(od$Sex, levels = c("Male", "Female"))
od$older <- od$age > 10                            # a logical column
ck <- read.csv("mixedfit/io/datasets/data/cake.csv")
ck$recipe <- factor(ck$recipe)
ck$replicate <- factor(ck$replicate)
sets <- list(sleepstudy = ss, orthodont = od, cake = ck)

cases <- list(
  list("slopes", "sleepstudy", "Reaction ~ Days + (Days | Subject)"),
  list("interaction", "orthodont", "distance ~ age * Sex + (age | Subject)"),
  list("interaction_factor_first", "orthodont", "distance ~ Sex * age + (1 | Subject)"),
  list("interaction_written_late", "orthodont", "distance ~ Sex + age + age:Sex + (1 | Subject)"),
  list("interaction_no_margin", "orthodont", "distance ~ age + Sex:age + (1 | Subject)"),
  list("no_intercept_factor", "orthodont", "distance ~ 0 + Sex + age + (1 | Subject)"),
  list("factor_factor", "cake", "angle ~ recipe * factor(temp) + (1 | replicate)"),
  list("factor_numeric", "cake", "angle ~ recipe * temp + (1 | replicate)"),
  list("factor_levels", "orthodont",
       "distance ~ age + factor(Sex, levels = c(\"Female\", \"Male\")) + (1 | Subject)"),
  list("relevel_interaction", "orthodont", "distance ~ age * relevel(Sex, \"Female\") + (1 | Subject)"),
  list("contr_sum_call", "cake", "angle ~ C(recipe, contr.sum) + temp + (1 | replicate)"),
  list("contr_helmert_call", "cake", "angle ~ C(recipe, contr.helmert) + temp + (1 | replicate)"),
  list("contr_sum", "cake", "angle ~ recipe + temp + (1 | replicate)",
       ours = "angle ~ C(recipe, Sum) + temp + (1 | replicate)", contrasts = list(recipe = "contr.sum")),
  list("logical_column", "orthodont", "distance ~ age + older + (1 | Subject)"),
  list("logical_expression", "orthodont", "distance ~ Sex + I(age > 10) + (1 | Subject)"),
  list("poly_factor", "orthodont", "distance ~ poly(age, 2) * Sex + (1 | Subject)"),
  list("poly_raw_slope", "sleepstudy", "Reaction ~ poly(Days, 2, raw = TRUE) + (Days | Subject)"),
  list("ns_factor", "orthodont", "distance ~ ns(age, 2):Sex + (1 | Subject)"),
  list("bs", "sleepstudy", "Reaction ~ bs(Days, df = 4) + (1 | Subject)"),
  list("scale", "orthodont", "distance ~ scale(age) * Sex + (scale(age) | Subject)"),
  list("scale_center", "orthodont", "distance ~ scale(age, scale = FALSE) + (1 | Subject)"),
  list("power_shift", "orthodont", "distance ~ I(age - 11) + I((age - 11)^2) + (1 | Subject)"),
  list("log_dotted", "sleepstudy", "Reaction ~ log(Days.num) + sqrt(Days.num) + (1 | Subject)"),
  list("exp_divide", "orthodont", "distance ~ exp(-age/10) + (1 | Subject)"),
  list("spacing", "orthodont", "distance ~ I(age*2) + log(age,2) + (1 | Subject)"),
  list("factor_numbers", "sleepstudy", "Reaction ~ factor(Days) + (1 | Subject)"),
  list("factor_slope", "cake", "angle ~ recipe + (recipe | replicate)"),
  list("contr_treatment_base", "cake", "angle ~ recipe + temp + (1 | replicate)",
       ours = "angle ~ C(recipe, Treatment(\"B\")) + temp + (1 | replicate)",
       contrasts = list(recipe = contr.treatment(levels(ck$recipe), base = 2))),
  list("no_intercept_random", "orthodont", "distance ~ age + (0 + age | Subject)")
)

out <- list()
for (case in cases) {
  id <- case[[1]]; data <- sets[[case[[2]]]]; formula <- case[[3]]
  contrasts <- if (is.null(case$contrasts)) NULL else case$contrasts
  m <- suppressWarnings(suppressMessages(
    lmer(as.formula(formula), data = data, contrasts = contrasts, REML = TRUE)))
  re <- ranef(m)
  out[[length(out) + 1]] <- list(
    id = id,
    data = case[[2]],
    formula = if (is.null(case$ours)) formula else case$ours,
    r_formula = formula,
    fixef = I(names(fixef(m))),
    ranef = lapply(setNames(names(re), names(re)), function(g) I(colnames(re[[g]]))),
    term_labels = I(attr(terms(m), "term.labels")),
    beta = unname(fixef(m))
  )
}
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/names/names.json")
