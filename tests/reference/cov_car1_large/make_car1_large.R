# gls y ~ t (ML) with a residual CAR(1) on 9,500 rows (make_car1_large_data.py), for
# tests/test_residual_car1_large.py. Run from the repository root:
#   Rscript tests/reference/cov_car1_large/make_car1_large.R
# car1: corCAR1 over t (Phi ~ 0.007); bound: no correlation (Phi = 0, where a fit stopped on the
# plateau is); car1_t2: corCAR1 over t2, each subject's times permuted (no serial correlation).
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("tests/reference/cov_car1_large/car1_large.csv.gz")
ctl <- glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12)
car1 <- gls(y ~ t, data = d, method = "ML", correlation = corCAR1(form = ~ t | id), control = ctl)
bound <- gls(y ~ t, data = d, method = "ML")
t2 <- tryCatch(gls(y ~ t, data = d, method = "ML", correlation = corCAR1(form = ~ t2 | id),
                   control = ctl), error = function(e) conditionMessage(e))
phi <- function(f) unname(coef(f$modelStruct$corStruct, unconstrained = FALSE))
out <- list(
  id = "car1_large_ml",
  data = "car1_large.csv.gz",
  engine = paste("nlme", packageVersion("nlme")),
  n = nrow(d),
  car1_loglik = as.numeric(logLik(car1)),
  car1_phi = phi(car1),
  car1_sigma = car1$sigma,
  car1_beta = as.list(coef(car1)),
  bound_loglik = as.numeric(logLik(bound)),
  t2_loglik = if (is.character(t2)) NA else as.numeric(logLik(t2)),
  t2_phi = if (is.character(t2)) NA else phi(t2),
  t2_error = if (is.character(t2)) t2 else NA
)
write_json(out, "tests/reference/cov_car1_large/car1_large.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
