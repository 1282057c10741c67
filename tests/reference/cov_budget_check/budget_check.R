# cov_budget_check: y ~ x + (1 | Subject) with residual AR1(occ | Subject) & VarIdent(grp), ML, on rv21's g3
# (tests/reference/cov_vi_vanfinal/g3.csv): nlme's lme maximum (interior: every ratio and phi inside), for the
# fits whose max_evals leaves room for one derivative check or none (tests/test_residual_budget_check.py).
# Run from the repository root:
#   Rscript tests/reference/cov_budget_check/budget_check.R > tests/reference/cov_budget_check/g3_lme_ML.json
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
d <- read.csv("tests/reference/cov_vi_vanfinal/g3.csv", stringsAsFactors = FALSE)
ctl <- lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, tolerance = 1e-10, msTol = 1e-12)
f <- lme(y ~ x, random = ~ 1 | Subject, data = d, method = "ML", control = ctl,
         correlation = corAR1(form = ~ occ | Subject), weights = varIdent(form = ~ 1 | grp))
out <- list(
  formula = "y ~ x + (1 | Subject)", reml = FALSE, loglik = as.numeric(logLik(f)),
  beta = unname(fixef(f)), sigma = f$sigma,
  phi = unname(coef(f$modelStruct$corStruct, unconstrained = FALSE)),
  ratios = as.list(coef(f$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)),
  sd_subject = sqrt(as.numeric(getVarCov(f))), R = R.version.string,
  nlme = as.character(packageVersion("nlme"))
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "\n")
