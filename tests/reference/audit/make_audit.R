# lme4 values for the regression tests of the audit findings (issue 10): R's `^` inside I(),
# integer columns, a repeated offset, a repeated random term, one-level factors.
# Run from the project root: Rscript tests/reference/audit/make_audit.R  (lme4 1.1-31)
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
fit_values <- function(fit) list(
  objective = as.numeric(-2 * logLik(fit)), beta = unname(fixef(fit)), names = names(fixef(fit)),
  theta = unname(getME(fit, "theta")), sigma = sigma(fit))
d <- sleepstudy
d$o <- 1.5
d$D8 <- as.integer(d$Days)  # R has no int8; R's ^ and * promote integers to double anyway
d$one <- factor("a")
err <- function(expr) tryCatch({expr; ""}, error = function(e) conditionMessage(e))
out <- list(
  power = fit_values(lmer(Reaction ~ Days + I(Days^2) + (1 | Subject), sleepstudy)),
  power_ml = fit_values(lmer(Reaction ~ Days + I(Days^2) + (1 + Days | Subject), sleepstudy,
                             REML = FALSE)),
  cube = fit_values(lmer(Reaction ~ D8 + I(D8^3) + (1 | Subject), d)),
  offset_once = fit_values(lmer(Reaction ~ Days + offset(o) + (1 | Subject), d)),
  offset_twice = fit_values(lmer(Reaction ~ Days + offset(o) + offset(o) + (1 | Subject), d)),
  repeated_term = fit_values(suppressWarnings(
    lmer(Reaction ~ Days + (1 | Subject) + (1 | Subject), sleepstudy))),
  offset_sci = fit_values(lmer(Reaction ~ Days + offset(1e-3 * Days) + (1 | Subject), sleepstudy)),
  cell_means = fit_values(lmer(distance ~ 0 + Sex + (1 | Subject), nlme::Orthodont)),
  one_level_error = err(lmer(Reaction ~ Days + one + (1 | Subject), d)),
  one_level_nointercept_error = err(lmer(Reaction ~ 0 + one + Days + (1 | Subject), d))
)
write_json(out, "tests/reference/audit/audit.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
