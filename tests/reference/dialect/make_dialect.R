# lme4 references for R's formula spellings (issue 13 §1): each formula fitted by lmer (REML) on
# a bundled data set; stores fixef, their standard errors, the REML criterion, R's model-matrix
# column names and first rows, and (for stateful transforms) population-level predictions on new
# data (predict(re.form = NA), which re-uses the training-data state as R's makepredictcall).
# Run from the project root: Rscript tests/reference/dialect/make_dialect.R  (lme4 1.1-31)
suppressPackageStartupMessages({library(lme4); library(jsonlite); library(splines)})

ss <- read.csv("mixedfit/io/datasets/data/sleepstudy.csv")
ss$Subject <- factor(ss$Subject)
ss$Days.num <- ss$Days + 1                       # a dotted column name
ss$Days.na <- ss$Days; ss$Days.na[c(1, 20, 55, 120)] <- NA   # na.omit before transforms
od <- read.csv("mixedfit/io/datasets/data/orthodont.csv")
od$Sex <- factor(od$Sex, levels = c("Male", "Female"))
ck <- read.csv("mixedfit/io/datasets/data/cake.csv")
ck$recipe <- factor(ck$recipe)
ck$replicate <- factor(ck$replicate)
sets <- list(sleepstudy = ss, orthodont = od, cake = ck)

cases <- list(
  list("factor", "sleepstudy", "Reaction ~ factor(Days) + (1 | Subject)", data.frame(Days = c(0, 3, 9))),
  list("as_factor", "orthodont", "distance ~ as.factor(age) + (1 | Subject)", data.frame(age = c(8, 14))),
  list("factor_cake", "cake", "angle ~ recipe + factor(temp) + (1 | replicate)", NULL),
  list("as_numeric", "orthodont", "distance ~ age + as.numeric(Sex) + (1 | Subject)",
       data.frame(age = c(9, 12), Sex = factor(c("Female", "Male"), levels = c("Male", "Female")))),
  list("sqrt_response", "sleepstudy", "sqrt(Reaction) ~ Days + (Days | Subject)", NULL),
  list("log1p", "sleepstudy", "Reaction ~ log1p(Days) + (1 | Subject)", data.frame(Days = c(0.5, 12))),
  list("poly_raw", "sleepstudy", "Reaction ~ poly(Days, 2, raw = TRUE) + (1 | Subject)",
       data.frame(Days = c(0.5, 4, 12))),
  list("poly_raw_T", "sleepstudy", "Reaction ~ poly(Days, 2, raw = T) + (1 | Subject)", NULL),
  list("poly_orth", "sleepstudy", "Reaction ~ poly(Days, 3) + (1 | Subject)",
       data.frame(Days = c(0.5, 4, 12))),
  list("scale_center", "sleepstudy", "Reaction ~ scale(Days, scale = FALSE) + (1 | Subject)",
       data.frame(Days = c(0.5, 4, 12))),
  list("scale_center_F", "sleepstudy", "Reaction ~ scale(Days, scale = F) + (1 | Subject)", NULL),
  list("scale", "sleepstudy", "Reaction ~ scale(Days) + (1 | Subject)", data.frame(Days = c(0.5, 4, 12))),
  list("scale_slope", "sleepstudy", "Reaction ~ scale(Days) + (scale(Days) | Subject)",
       data.frame(Days = c(0.5, 4, 12)), TRUE),
  list("ns", "sleepstudy", "Reaction ~ ns(Days, 3) + (1 | Subject)",
       data.frame(Days = c(-1, 0.5, 4, 9, 12))),
  list("ns_df_dotted", "sleepstudy", "Reaction ~ ns(Days.num, df = 4) + (1 | Subject)",
       data.frame(Days.num = c(0.5, 4, 12))),
  list("ns_missing", "sleepstudy", "Reaction ~ ns(Days.na, 3) + (1 | Subject)",
       data.frame(Days.na = c(0.5, 4, 9))),
  list("bs", "sleepstudy", "Reaction ~ bs(Days, df = 4) + (1 | Subject)",
       data.frame(Days = c(-1, 0.5, 4, 9, 12))),
  list("bs_default", "sleepstudy", "Reaction ~ bs(Days) + (1 | Subject)", data.frame(Days = c(0.5, 4))),
  list("bs_knots", "sleepstudy", "Reaction ~ bs(Days, knots = c(3, 6), degree = 2) + (1 | Subject)",
       data.frame(Days = c(0.5, 4))),
  list("relevel", "orthodont", "distance ~ age + relevel(Sex, \"Female\") + (1 | Subject)",
       data.frame(age = c(9, 12), Sex = factor(c("Female", "Male"), levels = c("Male", "Female")))),
  list("relevel_ref", "orthodont", "distance ~ age + relevel(Sex, ref = \"Female\") + (1 | Subject)", NULL),
  list("log_dotted", "sleepstudy", "Reaction ~ log(Days.num) + (1 | Subject)", NULL),
  list("log_dotted_sum", "sleepstudy", "Reaction ~ log(Days.num + 1) + (1 | Subject)", NULL),
  list("power", "sleepstudy", "Reaction ~ Days + I(Days^2) + (1 | Subject)", NULL),
  list("comparison", "sleepstudy", "Reaction ~ I(Days > 4) + (1 | Subject)", NULL),
  list("in_operator", "sleepstudy", "Reaction ~ Days %in% Subject + (1 | Subject)", NULL),
  list("exp_negative", "sleepstudy", "Reaction ~ exp(-Days) + (1 | Subject)", NULL)
)

for (case in cases) {
  id <- case[[1]]; data <- sets[[case[[2]]]]; formula <- case[[3]]; nd <- case[[4]]
  # tight tolerances where lme4's default stop is ~5e-7 short of the optimum (two variances)
  control <- if (length(case) > 4) lmerControl(optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14)) else lmerControl()
  fit <- suppressWarnings(lmer(as.formula(formula), data, control = control))
  X <- model.matrix(fit)
  out <- list(
    id = id, data = case[[2]], formula = formula, nobs = nobs(fit),
    reml_criterion = unname(REMLcrit(fit)),
    beta = as.list(fixef(fit)), se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
    columns = colnames(X), matrix_head = unname(lapply(1:6, function(i) unname(X[i, ]))))
  if (!is.null(nd)) {
    out$newdata <- nd
    out$predict_fixed <- unname(suppressWarnings(predict(fit, newdata = nd, re.form = NA)))
  }
  write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
        file.path("tests/reference/dialect", paste0(id, ".json")))
}
