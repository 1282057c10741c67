# gls y ~ t (ML) with a residual CAR(1) on 10,000 rows of continuous times
# (make_car1_continuous_data.py), for tests/test_residual_car1_large.py. Run from the
# repository root:  Rscript tests/reference/cov_car1_continuous/make_car1_continuous.R
# car1: nlme's corCAR1 fit; bound: no correlation (Phi = 0, the plateau's value).
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("tests/reference/cov_car1_continuous/car1_continuous.csv.gz")
ctl <- glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12)
car1 <- gls(y ~ t, data = d, method = "ML", correlation = corCAR1(form = ~ t | id), control = ctl)
bound <- gls(y ~ t, data = d, method = "ML")
out <- list(
  id = "car1_continuous_ml",
  data = "car1_continuous.csv.gz",
  engine = paste("nlme", packageVersion("nlme")),
  n = nrow(d),
  car1_loglik = as.numeric(logLik(car1)),
  car1_phi = unname(coef(car1$modelStruct$corStruct, unconstrained = FALSE)),
  bound_loglik = as.numeric(logLik(bound))
)
write_json(out, "tests/reference/cov_car1_continuous/car1_continuous.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
