# emmeans / performance references for mixedfit's fit.emmeans, fit.contrasts, fit.icc, fit.r2
# (issue 13 section 3). Data: the bundled CSVs of mixedfit/io/datasets/data with the schema's
# factor levels. The fits use a tight optimizer tolerance so that they sit at the optimum (the
# default nloptwrap stops ~1e-5 away in SEs, beyond the 1e-6 the tests ask). Run from the repository root:  Rscript tests/reference/emmeans/make_emmeans.R
suppressMessages({library(lme4); library(lmerTest); library(emmeans); library(performance)
  library(jsonlite)})
emm_options(pbkrtest.limit = 1e6, lmerTest.limit = 1e6)
here <- "tests/reference/emmeans"
tight <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
sch <- fromJSON("mixedfit/io/datasets/data/schema.json")
ld <- function(nm) {
  d <- read.csv(file.path("mixedfit/io/datasets/data", sch[[nm]]$file), stringsAsFactors = FALSE)
  for (f in names(sch[[nm]]$factors)) d[[f]] <- factor(as.character(d[[f]]), levels = sch[[nm]]$factors[[f]])
  d
}
frame <- function(x, infer = c(TRUE, TRUE), ...) {
  s <- as.data.frame(summary(x, infer = infer, ...))
  for (j in names(s)) if (is.factor(s[[j]])) s[[j]] <- as.character(s[[j]])
  s
}
out <- list(versions = list(emmeans = as.character(packageVersion("emmeans")),
  performance = as.character(packageVersion("performance")),
  insight = as.character(packageVersion("insight")), lme4 = as.character(packageVersion("lme4")),
  pbkrtest = as.character(packageVersion("pbkrtest"))))
r2icc <- function(m) {
  r <- r2_nakagawa(m); i <- icc(m)
  list(r2_marginal = unname(r$R2_marginal), r2_conditional = unname(r$R2_conditional),
       icc_adjusted = unname(i$ICC_adjusted), icc_conditional = unname(i$ICC_conditional))
}

# cake with temperature as a factor
cake <- ld("cake"); cake$temperature <- factor(as.character(cake$temp))
mc <- lmer(angle ~ recipe * temperature + (1 | recipe:replicate), cake, control = tight)
e_rec_kr <- emmeans(mc, ~ recipe)
e_rec_sat <- emmeans(mc, ~ recipe, lmer.df = "satterthwaite")
e_temp <- emmeans(mc, ~ temperature)
e_by <- emmeans(mc, ~ recipe | temperature)
e_int <- emmeans(mc, ~ recipe * temperature)
e_at <- emmeans(mc, ~ temperature, at = list(temperature = c("175", "225")))
L <- list("A vs B+C" = c(1, -0.5, -0.5), "B - C" = c(0, 1, -1))
out$cake <- list(
  formula = "angle ~ recipe * temperature + (1 | recipe:replicate)",
  emm_recipe_kr = frame(e_rec_kr), emm_recipe_sat = frame(e_rec_sat),
  emm_temperature = frame(e_temp), emm_recipe_by_temperature = frame(e_by),
  emm_recipe_x_temperature = frame(e_int), emm_temperature_at = frame(e_at),
  pairs_recipe_tukey = frame(contrast(e_rec_kr, "pairwise")),
  pairs_recipe_holm = frame(contrast(e_rec_kr, "pairwise", adjust = "holm")),
  pairs_recipe_bonferroni = frame(contrast(e_rec_kr, "pairwise", adjust = "bonferroni")),
  pairs_recipe_none = frame(contrast(e_rec_kr, "pairwise", adjust = "none")),
  pairs_recipe_sat = frame(contrast(e_rec_sat, "pairwise")),
  pairs_temperature_tukey = frame(contrast(e_temp, "pairwise")),
  trt_temperature_dunnettx = frame(contrast(e_temp, "trt.vs.ctrl")),
  trt_temperature_holm = frame(contrast(e_temp, "trt.vs.ctrl", adjust = "holm")),
  poly_temperature = frame(contrast(e_temp, "poly")),
  pairs_recipe_by_temperature = frame(contrast(e_by, "pairwise")),
  pairs_recipe_x_temperature = frame(contrast(e_int, "pairwise")),
  custom_recipe = frame(contrast(e_rec_kr, L)),
  r2icc = r2icc(mc))

# Orthodont: covariate at its mean, random slope
orth <- ld("orthodont")
mo <- lmer(distance ~ age * Sex + (age | Subject), orth, control = tight)
e_sex <- emmeans(mo, ~ Sex)
e_sex_age <- emmeans(mo, ~ Sex | age, at = list(age = c(8, 14)))
out$orthodont <- list(formula = "distance ~ age * Sex + (age | Subject)",
  emm_sex_kr = frame(e_sex), emm_sex_sat = frame(emmeans(mo, ~ Sex, lmer.df = "satterthwaite")),
  emm_sex_asym = frame(emmeans(mo, ~ Sex, lmer.df = "asymptotic")),
  emm_sex_by_age = frame(e_sex_age),
  pairs_sex = frame(contrast(e_sex, "pairwise")),
  pairs_sex_by_age = frame(contrast(e_sex_age, "pairwise")),
  r2icc = r2icc(mo))

# sleepstudy: a covariate as spec with at=
sl <- ld("sleepstudy")
ms <- lmer(Reaction ~ Days + (Days | Subject), sl, control = tight)
out$sleepstudy <- list(formula = "Reaction ~ Days + (Days | Subject)",
  emm_days_at = frame(emmeans(ms, ~ Days, at = list(Days = c(0, 4.5, 9)))),
  emm_days_mean = frame(emmeans(ms, ~ Days)),
  r2icc = r2icc(ms))
ms0 <- lmer(Reaction ~ Days + (1 | Subject), sl, control = tight)
out$sleepstudy_intercept <- list(formula = "Reaction ~ Days + (1 | Subject)", r2icc = r2icc(ms0))

msz <- lmer(Reaction ~ Days + (Days || Subject), sl, control = tight)
out$sleepstudy_zerocorr <- list(formula = "Reaction ~ Days + (Days || Subject)", r2icc = r2icc(msz))
orth$age2 <- orth$age^2
mo2 <- lmer(distance ~ Sex + (age | Subject), orth, control = tight)
out$orthodont_slope_not_fixed <- list(formula = "distance ~ Sex + (age | Subject)", r2icc = r2icc(mo2))

# Machines: two random terms
mach <- ld("machines")
mm <- lmer(score ~ Machine + (1 | Worker) + (1 | Worker:Machine), mach, control = tight)
e_m <- emmeans(mm, ~ Machine)
out$machines <- list(formula = "score ~ Machine + (1 | Worker) + (1 | Worker:Machine)",
  emm_machine = frame(e_m), pairs_machine = frame(contrast(e_m, "pairwise")),
  r2icc = r2icc(mm))

mm2 <- lmer(score ~ Machine + (0 + Machine | Worker), mach, control = tight)
out$machines_cellmeans <- list(formula = "score ~ Machine + (0 + Machine | Worker)", r2icc = r2icc(mm2))

# Penicillin: crossed intercepts, no fixed effects but the intercept
pen <- ld("penicillin")
mp <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), pen, control = tight)
out$penicillin <- list(formula = "diameter ~ 1 + (1 | plate) + (1 | sample)", r2icc = r2icc(mp))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "emmeans.json"))
