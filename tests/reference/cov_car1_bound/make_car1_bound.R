# Orthodont, distance ~ Sex * age + (age | Subject) with a residual CAR(1) & varPower(age)
# (REML), for tests/test_residual_car1_bound.py. Run from the repository root:
#   Rscript tests/reference/cov_car1_bound/make_car1_bound.R
# nlme's fit with the CAR(1) (opt = "optim"; the default nlminb fails) stops at Phi > 0; the
# supremum is at the bound Phi = 0 (no serial correlation): the same model without the CAR(1),
# whose log-likelihood is the supremum's.
suppressMessages({library(nlme); library(jsonlite)})
o <- read.csv("tests/data/cov/orthodont.csv")
o$Subject <- factor(o$Subject)
o$Sex <- factor(o$Sex, levels = c("Male", "Female"))
ctl <- lmeControl(maxIter = 500, msMaxIter = 500, opt = "optim")
car1 <- lme(distance ~ Sex * age, random = ~ age | Subject,
            correlation = corCAR1(form = ~ age | Subject), weights = varPower(form = ~ age),
            data = o, method = "REML", control = ctl)
bound <- lme(distance ~ Sex * age, random = ~ age | Subject, weights = varPower(form = ~ age),
             data = o, method = "REML",
             control = lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10,
                                  msTol = 1e-12))
out <- list(
  id = "orthodont_car1_varpower_bound_reml",
  data = "orthodont.csv",
  engine = paste("nlme", packageVersion("nlme")),
  python = list(formula = "distance ~ Sex * age + (age | Subject)",
                residual = "mf.CAR1(\"age\", \"Subject\") & mf.VarPower(\"age\")", reml = TRUE),
  car1_loglik = as.numeric(logLik(car1)),
  car1_phi = unname(coef(car1$modelStruct$corStruct, unconstrained = FALSE)),
  bound_loglik = as.numeric(logLik(bound)),
  bound_power = unname(coef(bound$modelStruct$varStruct, unconstrained = FALSE)),
  bound_sigma = bound$sigma,
  bound_beta = as.list(fixef(bound))
)
write_json(out, "tests/reference/cov_car1_bound/orthodont_car1_bound.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
