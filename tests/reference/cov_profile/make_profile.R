# Profile-likelihood intervals of residual-structure parameters (issue 12), for
# tests/test_residual_profile.py. Each interval end is where the ML deviance with the parameter
# fixed (nlme refits with corAR1(value, fixed = TRUE) / varIdent(fixed = ...), everything else
# re-optimized) exceeds the ML optimum's by qnorm(0.975)^2: uniroot on each side.
# Run from the repository root: Rscript tests/reference/cov_profile/make_profile.R
suppressMessages(library(nlme))
d <- read.csv("tests/data/cov/orthodont.csv")
d$Subject <- factor(d$Subject); d$Sex <- factor(d$Sex, levels = c("Male", "Female"))
ctl <- glsControl(msMaxIter = 500, opt = "optim")
lctl <- lmeControl(msMaxIter = 500, opt = "optim", returnObject = TRUE)
q2 <- qnorm(0.975)^2
dev <- function(f) -2 * as.numeric(logLik(f))
ends <- function(prof, est, base, lo, hi) {
  g <- function(v) prof(v) - base - q2
  c(lower = uniroot(g, c(lo, est), tol = 1e-10)$root,
    upper = uniroot(g, c(est, hi), tol = 1e-10)$root)
}
out <- list()

# 1. GLS: AR(1) over occasions + a variance per sex, ML
g <- gls(distance ~ age, d, correlation = corAR1(form = ~ occ | Subject),
         weights = varIdent(form = ~ 1 | Sex), method = "ML", control = ctl)
phi <- as.numeric(coef(g$modelStruct$corStruct, unconstrained = FALSE))
ratio <- as.numeric(coef(g$modelStruct$varStruct, unconstrained = FALSE))
prof_phi <- function(v) dev(gls(distance ~ age, d,
  correlation = corAR1(v, form = ~ occ | Subject, fixed = TRUE),
  weights = varIdent(form = ~ 1 | Sex), method = "ML", control = ctl))
prof_ratio <- function(v) dev(gls(distance ~ age, d, correlation = corAR1(form = ~ occ | Subject),
  weights = varIdent(form = ~ 1 | Sex, fixed = c(Male = v)),
  method = "ML", control = ctl))
out$gls_ar1_varident <- list(
  call_r = "gls(distance ~ age, Orthodont, correlation = corAR1(form = ~ occ | Subject), weights = varIdent(form = ~ 1 | Sex), method = 'ML')",
  call_py = "mf.gls('distance ~ age', d, residual=mf.AR1('occ', 'Subject') & mf.VarIdent('Sex'), reml=False)",
  objective = dev(g), sigma = g$sigma, Phi = phi, Male = ratio, ratio_name = names(coef(g$modelStruct$varStruct, unconstrained = FALSE)),
  Phi_ci = as.list(ends(prof_phi, phi, dev(g), 0.3, 0.97)),
  Male_ci = as.list(ends(prof_ratio, ratio, dev(g), 1.0, 4.0)))

# 2. random intercept + AR(1), ML
l <- lme(distance ~ age, d, random = ~ 1 | Subject,
         correlation = corAR1(form = ~ occ | Subject), method = "ML", control = lctl)
phi <- as.numeric(coef(l$modelStruct$corStruct, unconstrained = FALSE))
prof_phi <- function(v) dev(lme(distance ~ age, d, random = ~ 1 | Subject,
  correlation = corAR1(v, form = ~ occ | Subject, fixed = TRUE), method = "ML", control = lctl))
out$lme_ri_ar1 <- list(
  call_r = "lme(distance ~ age, Orthodont, random = ~ 1 | Subject, correlation = corAR1(form = ~ occ | Subject), method = 'ML')",
  call_py = "mf.lmer('distance ~ age + (1 | Subject)', d, residual=mf.AR1('occ', 'Subject'), reml=False)",
  objective = dev(l), sigma = l$sigma, Phi = phi,
  sd_intercept = as.numeric(VarCorr(l)[1, "StdDev"]),
  Phi_ci = as.list(ends(prof_phi, phi, dev(l), -0.6, 0.8)))

# 3. GLS: compound symmetry, ML
c1 <- gls(distance ~ age, d, correlation = corCompSymm(form = ~ 1 | Subject), method = "ML",
          control = ctl)
rho <- as.numeric(coef(c1$modelStruct$corStruct, unconstrained = FALSE))
prof_rho <- function(v) dev(gls(distance ~ age, d,
  correlation = corCompSymm(v, form = ~ 1 | Subject, fixed = TRUE), method = "ML", control = ctl))
out$gls_cs <- list(
  call_r = "gls(distance ~ age, Orthodont, correlation = corCompSymm(form = ~ 1 | Subject), method = 'ML')",
  call_py = "mf.gls('distance ~ age', d, residual=mf.CompoundSymmetry('Subject'), reml=False)",
  objective = dev(c1), sigma = c1$sigma, Rho = rho,
  Rho_ci = as.list(ends(prof_rho, rho, dev(c1), 0.1, 0.95)))
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/cov_profile/profile.json")
