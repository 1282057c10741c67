# Likelihood-ratio tests between residual-structure fits (nlme's anova.gls / anova.lme), the
# reference of tests/test_residual_lrt.py. Run from the repository root:
#   Rscript tests/reference/cov_lrt/cov_lrt.R
# Writes tests/reference/cov_lrt/orthodont_lrt.json and, for fits with equal numbers of parameters
# (tests/test_anova_equal_npar.py: no test, AIC/BIC only), equal_npar.json.
suppressPackageStartupMessages({library(nlme); library(lme4); library(jsonlite)})
schema <- fromJSON("tests/data/cov/schema.json")
read <- function(name) {
  entry <- schema[[name]]
  d <- read.csv(file.path("tests/data/cov", entry$file), colClasses = setNames(
    rep("character", length(entry$factors)), names(entry$factors)))
  for (k in names(entry$factors)) d[[k]] <- factor(d[[k]], levels = entry$factors[[k]])
  d
}
orthodont <- read("orthodont")

table_of <- function(a, labels) {
  a <- as.data.frame(a)
  list(labels = labels, npar = a$df, aic = a$AIC, bic = a$BIC, loglik = a$logLik,
       chisq = a$L.Ratio, p = a[["p-value"]])
}
out <- list(engine = paste("nlme", packageVersion("nlme"), "/ lme4", packageVersion("lme4")),
            data = "orthodont.csv")

# 1. gls CS vs CSH vs UN, REML, identical fixed effects (nlme's rule: REML allowed)
cs <- gls(distance ~ Sex * age_c, orthodont, correlation = corCompSymm(form = ~ 1 | Subject))
csh <- gls(distance ~ Sex * age_c, orthodont, correlation = corCompSymm(form = ~ 1 | Subject),
           weights = varIdent(form = ~ 1 | agef))
un <- gls(distance ~ Sex * age_c, orthodont, correlation = corSymm(form = ~ occ | Subject),
          weights = varIdent(form = ~ 1 | agef))
out$gls_cs_csh_un_reml <- table_of(anova(cs, csh, un), c("CS", "CSH", "UN"))

# 2. lme random intercept vs random intercept + AR(1), REML
ri <- lme(distance ~ Sex * age_c, orthodont, random = ~ 1 | Subject)
ri_ar1 <- lme(distance ~ Sex * age_c, orthodont, random = ~ 1 | Subject,
              correlation = corAR1(form = ~ occ | Subject))
out$lme_ri_ri_ar1_reml <- table_of(anova(ri, ri_ar1), c("RI", "RI+AR1"))
# the ordinary fit's REML criterion is on nlme's scale: lme4's REML logLik of (1 | Subject)
lmer_ri <- lmer(distance ~ Sex * age_c + (1 | Subject), orthodont, REML = TRUE)
out$lmer_ri_reml_loglik <- as.numeric(logLik(lmer_ri))
out$lme_ri_reml_loglik <- as.numeric(logLik(ri))

# 3. different fixed effects: REML fits are not comparable, compared after refitting by ML
cs0_ml <- gls(distance ~ age_c, orthodont, correlation = corCompSymm(form = ~ 1 | Subject),
              method = "ML")
un_ml <- update(un, method = "ML")
out$gls_cs_small_un_ml <- table_of(anova(cs0_ml, un_ml), c("CS, distance ~ age_c", "UN"))
# ... and an lme4-style fit (1 | Subject) with fewer fixed effects vs RI + AR(1), both by ML
ri0_ml <- lme(distance ~ age_c, orthodont, random = ~ 1 | Subject, method = "ML")
ri_ar1_ml <- update(ri_ar1, method = "ML")
out$lme_ri_small_ri_ar1_ml <- table_of(anova(ri0_ml, ri_ar1_ml), c("RI, distance ~ age_c", "RI+AR1"))

write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
      "tests/reference/cov_lrt/orthodont_lrt.json")

# ---- equal numbers of parameters (anova prints no test between them)
eq <- list(engine = out$engine, data = "orthodont.csv")
# nlme: columns Model, df, AIC, BIC, logLik, and (when some df differ) Test, L.Ratio, p-value;
# L.Ratio and p-value are NA (printed blank) where the df equal the previous row's.
nlme_table <- function(a, labels) {
  a <- as.data.frame(a)
  has_test <- "L.Ratio" %in% names(a)
  list(labels = labels, columns = names(a), npar = a$df, aic = a$AIC, bic = a$BIC,
       loglik = a$logLik,
       test = if (has_test) as.character(a$Test) else NULL,
       chisq = if (has_test) a$L.Ratio else NULL,
       p = if (has_test) a[["p-value"]] else NULL)
}
ar1 <- gls(distance ~ Sex * age_c, orthodont, correlation = corAR1(form = ~ occ | Subject))
# 1. two structures with 6 parameters each (REML, same fixed effects): no Test columns at all
eq$cs_ar1_reml <- nlme_table(anova(cs, ar1), c("CS", "AR1"))
# 2. CS, AR1 (both 6), UN (14): only "2 vs 3" is tested
eq$cs_ar1_un_reml <- nlme_table(anova(cs, ar1, un), c("CS", "AR1", "UN"))
# 3. an lme random intercept and the gls CS: the same marginal model, 6 parameters each
eq$ri_cs_reml <- nlme_table(anova(ri, cs), c("RI", "CS"))
# 4. ML fits with different fixed effects and equal npar (non-nested): AIC/BIC only
cs_sex <- gls(distance ~ Sex, orthodont, correlation = corCompSymm(form = ~ 1 | Subject),
              method = "ML")
cs_age <- gls(distance ~ age_c, orthodont, correlation = corCompSymm(form = ~ 1 | Subject),
              method = "ML")
eq$cs_sex_cs_age_ml <- nlme_table(anova(cs_sex, cs_age), c("CS ~ Sex", "CS ~ age_c"))

# 5. lme4 (ordinary fits): equal npar gives Chisq = max(0, 2 diff(logLik)), Df 0, no p-value
ss <- sleepstudy
ss$g3 <- factor(as.integer(ss$Subject) %% 3)
m_subject <- lmer(Reaction ~ Days + (1 | Subject), ss, REML = FALSE)
m_g3 <- lmer(Reaction ~ Days + (1 | g3), ss, REML = FALSE)
a <- as.data.frame(anova(m_g3, m_subject))
eq$lme4_g3_subject_ml <- list(labels = c("(1 | g3)", "(1 | Subject)"), npar = a$npar,
  aic = a$AIC, bic = a$BIC, loglik = a$logLik, chisq = a$Chisq, df = a$Df,
  p = a[["Pr(>Chisq)"]])

write(toJSON(eq, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "string"),
      "tests/reference/cov_lrt/equal_npar.json")
