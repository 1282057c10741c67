# anova() between fits with equal numbers of parameters (nlme's anova.gls / anova.lme and
# lme4's anova.merMod): the information table without a test. The reference of
# tests/test_anova_equal_npar.py. Run from the repository root:
#   Rscript tests/reference/cov_lrt/equal_npar.R
# Writes tests/reference/cov_lrt/equal_npar.json.
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
out <- list(engine = paste("nlme", packageVersion("nlme"), "/ lme4", packageVersion("lme4")),
            data = "orthodont.csv")

f <- distance ~ Sex * age_c
cs <- gls(f, orthodont, correlation = corCompSymm(form = ~ 1 | Subject))
ar1 <- gls(f, orthodont, correlation = corAR1(form = ~ occ | Subject))
un <- gls(f, orthodont, correlation = corSymm(form = ~ occ | Subject),
          weights = varIdent(form = ~ 1 | agef))
ri <- lme(f, orthodont, random = ~ 1 | Subject)
# 1. two structures with 6 parameters each (REML, same fixed effects): no Test columns at all
out$cs_ar1_reml <- nlme_table(anova(cs, ar1), c("CS", "AR1"))
# 2. CS, AR1 (both 6), UN (14): only "2 vs 3" is tested
out$cs_ar1_un_reml <- nlme_table(anova(cs, ar1, un), c("CS", "AR1", "UN"))
# 3. an lme random intercept and the gls CS: the same marginal model, 6 parameters each
out$ri_cs_reml <- nlme_table(anova(ri, cs), c("RI", "CS"))
# 4. ML fits with different fixed effects and equal npar (non-nested): AIC/BIC only
cs_sex <- gls(distance ~ Sex, orthodont, correlation = corCompSymm(form = ~ 1 | Subject),
              method = "ML")
cs_age <- gls(distance ~ age_c, orthodont, correlation = corCompSymm(form = ~ 1 | Subject),
              method = "ML")
out$cs_sex_cs_age_ml <- nlme_table(anova(cs_sex, cs_age), c("CS ~ Sex", "CS ~ age_c"))

# 5. lme4 (ordinary fits): equal npar gives Chisq = max(0, 2 diff(logLik)), Df 0, no p-value
ss <- sleepstudy
ss$g3 <- factor(as.integer(ss$Subject) %% 3)
m_subject <- lmer(Reaction ~ Days + (1 | Subject), ss, REML = FALSE)
m_g3 <- lmer(Reaction ~ Days + (1 | g3), ss, REML = FALSE)
a <- as.data.frame(anova(m_g3, m_subject))
out$lme4_g3_subject_ml <- list(labels = c("(1 | g3)", "(1 | Subject)"), npar = a$npar,
  aic = a$AIC, bic = a$BIC, loglik = a$logLik, chisq = a$Chisq, df = a$Df,
  p = a[["Pr(>Chisq)"]])

write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "string"),
      "tests/reference/cov_lrt/equal_npar.json")
