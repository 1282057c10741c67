# Oxboys with 10 % of its rows dropped (issue 12 review), and the R fits that
# tests/test_structured_oxboys.py compares with. Run from the repository root:
#   Rscript tests/reference/cov_oxboys/make_oxboys.R
# B1: (1 | Subject) + ar1(0 + occf | Subject) and (age | Subject) + ar1(0 + occf | Subject) have
# their supremum at sigma = 0, i.e. the lme with corAR1 as the residual correlation (nlme); glmmTMB
# (same formulas) is recorded as a second opinion.
# B2: ar1(0 + occf | Subject, hom = FALSE) alone: the GLS with corAR1 + varIdent by occasion.
suppressMessages({library(nlme); library(glmmTMB); library(jsonlite)})
set.seed(12)
d <- as.data.frame(Oxboys)
d$Subject <- factor(as.character(d$Subject))
d <- d[order(d$Subject, d$Occasion), ]
d$occ <- as.integer(as.character(d$Occasion))
d$grp <- ifelse(as.integer(as.character(d$Subject)) %% 2 == 0, "even", "odd")
drop <- sample(nrow(d), round(0.1 * nrow(d)))
d <- d[-drop, ]
d$occf <- factor(paste0("v", d$occ), levels = paste0("v", 1:9))
write.csv(d[, c("Subject", "age", "height", "occ", "occf", "grp")],
          "tests/reference/cov_oxboys/oxboys_miss.csv", row.names = FALSE)
ctl <- lmeControl(msMaxIter = 1000, maxIter = 1000, msMaxEval = 5000, tolerance = 1e-10, msTol = 1e-10)
gctl <- glsControl(msMaxIter = 500, maxIter = 500, tolerance = 1e-10, msTol = 1e-10)
one <- function(m, formula, r) {
  list(python = formula, r = r, loglik = as.numeric(logLik(m)),
       beta = as.list(fixef_or_coef(m)), se = as.list(sqrt(diag(vcov(m)))))
}
fixef_or_coef <- function(m) if (inherits(m, "lme")) fixef(m) else coef(m)
out <- list(data = "oxboys_miss.csv", engine = paste("nlme", packageVersion("nlme"), "glmmTMB",
            packageVersion("glmmTMB")), fits = list())
for (meth in c("REML", "ML")) {
  reml <- meth == "REML"
  m <- lme(height ~ age, random = ~ 1 | Subject, data = d, method = meth, control = ctl,
           correlation = corAR1(form = ~ occ | Subject))
  f <- "height ~ age + (1|Subject) + ar1(0 + occf | Subject)"
  t <- glmmTMB(as.formula(f), d, REML = reml)
  out$fits[[paste0("ri_ar1_", meth)]] <- c(one(m, f, "lme(random = ~1|Subject, corAR1(~occ|Subject))"),
                                           list(reml = reml, glmmTMB_loglik = -t$fit$objective))
  m <- lme(height ~ age, random = ~ age | Subject, data = d, method = meth, control = ctl,
           correlation = corAR1(form = ~ occ | Subject))
  f <- "height ~ age + (age|Subject) + ar1(0 + occf | Subject)"
  t <- glmmTMB(as.formula(f), d, REML = reml)
  out$fits[[paste0("slope_ar1_", meth)]] <- c(one(m, f, "lme(random = ~age|Subject, corAR1(~occ|Subject))"),
                                              list(reml = reml, glmmTMB_loglik = -t$fit$objective))
  g <- gls(height ~ age, d, correlation = corAR1(form = ~ occ | Subject), method = meth,
           weights = varIdent(form = ~ 1 | occf), control = gctl)
  f <- "height ~ age + ar1(0 + occf | Subject, hom=False)"
  out$fits[[paste0("arh1_", meth)]] <- c(one(g, f, "gls(corAR1(~occ|Subject), varIdent(~1|occf))"),
                                         list(reml = reml))
}
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/cov_oxboys/oxboys_sigma0.json")
