# References for F tests and profile intervals of residual-structure fits (mixedfit issue 12).
# Run from the repository root:  Rscript tests/reference/cov_tests/make_cov_tests.R
# Writes tests/reference/cov_tests/<id>.json, one per model:
#   marginal: nlme's anova(fit, type = "marginal") F per term with R's default treatment coding:
#             the Wald F of the term's coefficients (model-based vcov), numDF = their number;
#   type3:    the same with contr.sum coding (the fit is the same model), i.e. type III F
#             (for the factor-only fev model and Orthodont's Sex * age_c, these are lmerTest's
#             type III hypotheses);
#   profile:  95 % profile-likelihood intervals of chosen coefficients: the ML log-likelihood
#             maximized over all other parameters with beta_j fixed (response y - b x_j, X without
#             column j, refitted by nlme at each b), solved for 2 (l_max - l(b)) = qnorm(.975)^2
#             by uniroot.
suppressMessages({library(nlme); library(jsonlite)})
here <- "tests/reference/cov_tests"
sch <- fromJSON("tests/data/cov/schema.json")
ld <- function(nm) {
  d <- read.csv(file.path("tests/data/cov", sch[[nm]]$file), stringsAsFactors = FALSE)
  for (f in names(sch[[nm]]$factors)) d[[f]] <- factor(as.character(d[[f]]), levels = sch[[nm]]$factors[[f]])
  d
}
orthodont <- ld("orthodont")
fev <- ld("fev"); fev <- fev[!is.na(fev$FEV1), ]

models <- list(
  orthodont_gls_cs = list(data = "orthodont", python = list(formula = "distance ~ Sex * age_c",
      residual = 'mf.CompoundSymmetry(subject="Subject")'),
    fit = function(f, d, m) gls(f, data = d, correlation = corCompSymm(form = ~ 1 | Subject), method = m),
    profile = c("SexFemale", "age_c")),
  orthodont_gls_un = list(data = "orthodont", python = list(formula = "distance ~ Sex * age_c",
      residual = 'mf.Unstructured(time="agef", subject="Subject")'),
    fit = function(f, d, m) gls(f, data = d, correlation = corSymm(form = ~ occ | Subject),
                                weights = varIdent(form = ~ 1 | agef), method = m),
    profile = c("SexFemale")),
  orthodont_lme_ri_ar1 = list(data = "orthodont", python = list(formula = "distance ~ Sex * age_c + (1 | Subject)",
      residual = 'mf.AR1(time="occ", subject="Subject")'),
    fit = function(f, d, m) lme(f, data = d, random = ~ 1 | Subject, correlation = corAR1(form = ~ occ | Subject), method = m),
    profile = c("SexFemale", "age_c")),
  fev_gls_us = list(data = "fev", python = list(formula = "FEV1 ~ RACE + SEX + ARMCD * AVISIT",
      residual = 'mf.Unstructured(time="AVISIT", subject="USUBJID")'),
    fit = function(f, d, m) gls(f, data = d, correlation = corSymm(form = ~ VISITN | USUBJID),
                                weights = varIdent(form = ~ 1 | AVISIT), method = m),
    profile = character(0)),
  fev_gls_ar1 = list(data = "fev", python = list(formula = "FEV1 ~ RACE + SEX + ARMCD * AVISIT",
      residual = 'mf.AR1(time="AVISIT", subject="USUBJID")'),
    fit = function(f, d, m) gls(f, data = d, correlation = corAR1(form = ~ VISITN | USUBJID), method = m),
    profile = c("SEXFemale"))
)
beta_of <- function(m) if (inherits(m, "lme")) fixef(m) else coef(m)
formula_r <- list(orthodont = distance ~ Sex * age_c, fev = FEV1 ~ RACE + SEX + ARMCD * AVISIT)

profile_interval <- function(spec, d, coef, level = 0.95) {
  f <- formula_r[[spec$data]]
  X <- model.matrix(f, d); y <- model.response(model.frame(f, d)); j <- match(coef, colnames(X))
  full <- spec$fit(f, d, "ML"); l0 <- as.numeric(logLik(full)); b0 <- beta_of(full)[[coef]]
  se <- sqrt(diag(vcov(full)))[[coef]]
  Xr <- X[, -j, drop = FALSE]; colnames(Xr) <- paste0("x", seq_len(ncol(Xr)))
  dd <- cbind(d, Xr)
  fr <- as.formula(paste("yb ~ 0 +", paste(colnames(Xr), collapse = " + ")))
  q <- qnorm(0.5 + level / 2)
  zeta <- function(b) { dd$yb <- y - b * X[, j]; m <- spec$fit(fr, dd, "ML")
    sign(b - b0) * sqrt(max(2 * (l0 - as.numeric(logLik(m))), 0)) }
  lo <- uniroot(function(b) zeta(b) + q, c(b0 - 4 * se, b0), tol = 1e-10)$root
  hi <- uniroot(function(b) zeta(b) - q, c(b0, b0 + 4 * se), tol = 1e-10)$root
  list(lower = lo, upper = hi, ml_estimate = b0, ml_loglik = l0)
}

for (id in names(models)) {
  spec <- models[[id]]; d <- get(spec$data); f <- formula_r[[spec$data]]
  fit <- spec$fit(f, d, "REML")
  a <- anova(fit, type = "marginal")
  old <- options(contrasts = c("contr.sum", "contr.poly"))
  fit_sum <- spec$fit(f, d, "REML")
  a3 <- anova(fit_sum, type = "marginal")
  options(old)
  terms <- rownames(a)[rownames(a) != "(Intercept)"]
  out <- list(
    id = id, engine = paste("nlme", packageVersion("nlme")),
    r = paste(deparse(body(spec$fit)), collapse = " "),
    data = sch[[spec$data]]$file,
    python = c(spec$python, list(reml = TRUE)),
    loglik = as.numeric(logLik(fit)), loglik_contr_sum = as.numeric(logLik(fit_sum)),
    coef_names = names(beta_of(fit)),
    marginal = lapply(setNames(terms, terms), function(t) list(numdf = a[t, "numDF"], F = a[t, "F-value"],
      columns = which(attr(model.matrix(f, d), "assign") == match(t, attr(terms(f), "term.labels"))) - 1L)),
    type3 = lapply(setNames(terms, terms), function(t) list(numdf = a3[t, "numDF"], F = a3[t, "F-value"])),
    profile = lapply(setNames(spec$profile, spec$profile), function(cf) profile_interval(spec, d, cf)),
    conventions = paste("marginal F = Wald F of the term's columns (treatment coding, 0-based columns);",
      "type3 F = the same under contr.sum coding; profile: ML profile-likelihood 95% intervals of",
      "coefficients by nlme refits at fixed beta_j (names in R's coding, indices in coef_names)")
  )
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, paste0(id, ".json")))
  cat(id, "done\n")
}
