# Likelihood-ratio tests between residual-structure fits (nlme's anova.gls / anova.lme), the
# reference of tests/test_residual_lrt.py. Run from the repository root:
#   Rscript tests/reference/cov_lrt/cov_lrt.R
# Writes tests/reference/cov_lrt/orthodont_lrt.json.
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
