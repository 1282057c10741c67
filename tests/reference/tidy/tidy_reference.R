# References for tests/test_tidy.py: broom.mixed's tidy/glance/augment, as.data.frame(ranef(condVar=TRUE)),
# and population-level prediction intervals computed from vcov(beta), VarCorr and sigma.
# Run from this directory: Rscript tidy_reference.R  (writes tidy_reference.json)
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(broom.mixed); library(jsonlite)
})
ss <- read.csv("../../../mixedfit/io/datasets/data/sleepstudy.csv")
ss$Subject <- factor(ss$Subject)
pen <- read.csv("../../../mixedfit/io/datasets/data/penicillin.csv")
df_out <- function(d) { d <- as.data.frame(d); for (n in names(d)) if (is.factor(d[[n]])) d[[n]] <- as.character(d[[n]]); d }

m_reml <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), ss)
m_ml <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), ss, REML = FALSE)
m_pen <- lmerTest::lmer(diameter ~ 1 + (1 | plate) + (1 | sample), pen)
m_zc <- lmerTest::lmer(Reaction ~ Days + (Days || Subject), ss)

# population-level intervals: var(x'b) = x' V x; prediction adds z' G z per term and sigma^2
pop_intervals <- function(m, newdata, level = 0.95) {
  X <- model.matrix(delete.response(terms(m)), newdata)
  fit <- drop(X %*% fixef(m))
  vfix <- rowSums((X %*% as.matrix(vcov(m))) * X)
  vc <- VarCorr(m)
  vre <- rep(0, nrow(newdata))
  for (g in names(vc)) {
    G <- vc[[g]]
    cols <- colnames(G)
    Z <- matrix(1, nrow(newdata), length(cols))
    for (j in seq_along(cols)) if (cols[j] != "(Intercept)") Z[, j] <- newdata[[cols[j]]]
    vre <- vre + rowSums((Z %*% G) * Z)
  }
  z <- qnorm(1 - (1 - level) / 2)
  se_c <- sqrt(vfix); se_p <- sqrt(vfix + vre + sigma(m)^2)
  list(fit = fit, conf_lower = fit - z * se_c, conf_upper = fit + z * se_c,
       pred_lower = fit - z * se_p, pred_upper = fit + z * se_p)
}
newdata <- data.frame(Days = c(0, 2.5, 9, 12))

out <- list(
  reml = list(
    fixed = df_out(tidy(m_reml, effects = "fixed", conf.int = TRUE)),
    ran_pars = df_out(tidy(m_reml, effects = "ran_pars")),
    ran_vals = df_out(tidy(m_reml, effects = "ran_vals", conf.int = TRUE)),
    glance = df_out(glance(m_reml)),
    augment = df_out(augment(m_reml)[, c(".fitted", ".resid", ".fixed")]),
    ranef_frame = df_out(as.data.frame(ranef(m_reml, condVar = TRUE))),
    newdata = newdata,
    intervals95 = pop_intervals(m_reml, newdata),
    intervals80 = pop_intervals(m_reml, newdata, 0.8)
  ),
  ml = list(
    fixed = df_out(tidy(m_ml, effects = "fixed")),
    ran_pars = df_out(tidy(m_ml, effects = "ran_pars")),
    glance = df_out(glance(m_ml))
  ),
  penicillin = list(
    fixed = df_out(tidy(m_pen, effects = "fixed", conf.int = TRUE)),
    ran_pars = df_out(tidy(m_pen, effects = "ran_pars")),
    ran_vals = df_out(tidy(m_pen, effects = "ran_vals")),
    glance = df_out(glance(m_pen)),
    ranef_frame = df_out(as.data.frame(ranef(m_pen, condVar = TRUE))),
    intervals95 = pop_intervals(m_pen, data.frame(x = 1:2))
  ),
  zerocorr = list(
    ran_pars = df_out(tidy(m_zc, effects = "ran_pars")),
    ranef_frame = df_out(as.data.frame(ranef(m_zc, condVar = TRUE)))
  ),
  versions = list(lme4 = as.character(packageVersion("lme4")),
                  broom.mixed = as.character(packageVersion("broom.mixed")),
                  lmerTest = as.character(packageVersion("lmerTest")))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), "tidy_reference.json")
