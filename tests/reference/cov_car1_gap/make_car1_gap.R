# White noise with a random intercept (rv18's car1/c7: 40 subjects x 5 irregular times, true
# Phi 0), y ~ t + (1 | id) with a residual CAR(1) (ML), for tests/test_residual_car1_gap.py.
# Run from the repository root:  Rscript tests/reference/cov_car1_gap/make_car1_gap.R
# nlme's fit with corCAR1 fails here; the supremum is at the bound Phi = 0, the model without
# the CAR(1) ("bound"). The profile: nlme's ML fit with Phi held fixed at each value, every one
# below the bound and rising towards it as Phi -> 0.
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("tests/reference/cov_car1_gap/car1_white.csv")
ctl <- lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12)
car1 <- tryCatch(lme(y ~ t, random = ~ 1 | id, data = d, method = "ML",
                     correlation = corCAR1(form = ~ t | id)),
                 error = function(e) conditionMessage(e))
bound <- lme(y ~ t, random = ~ 1 | id, data = d, method = "ML", control = ctl)
phis <- c(1e-100, 1e-20, 1e-8, 1e-4, 1e-2)
profile <- sapply(phis, function(p) as.numeric(logLik(
  lme(y ~ t, random = ~ 1 | id, data = d, method = "ML", control = ctl,
      correlation = corCAR1(value = p, form = ~ t | id, fixed = TRUE)))))
out <- list(
  id = "car1_white_ml",
  data = "car1_white.csv",
  engine = paste("nlme", packageVersion("nlme")),
  car1_error = if (is.character(car1)) car1 else NA,
  bound_loglik = as.numeric(logLik(bound)),
  bound_sd_id = sqrt(as.numeric(getVarCov(bound))),
  bound_sigma = bound$sigma,
  bound_beta = as.list(fixef(bound)),
  profile_phi = phis,
  profile_loglik = profile
)
write_json(out, "tests/reference/cov_car1_gap/car1_white.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
