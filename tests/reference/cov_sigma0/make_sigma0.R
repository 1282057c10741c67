# The sigma -> 0 limit of ar1(0 + Daysf | Subject, hom = FALSE) on sleepstudy (REML), for
# tests/test_residual_sigma0.py. Run from the repository root:
#   Rscript tests/reference/cov_sigma0/make_sigma0.R
# With one effect per observation (each Daysf level seen once per subject) the term's covariance
# D R(rho) D (R the AR(1) correlation over the day positions) plus sigma^2 I is the covariance of a
# subject's rows; its REML supremum is at sigma = 0: a GLS with a heterogeneous AR(1) per subject
# (ARH(1)), which nlme fits as gls(corAR1 + varIdent by day). Every subject has all 10 days, so
# corAR1's order within the subject is the day's position.
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("tests/data/cov/sleepstudy.csv")
schema <- fromJSON("tests/data/cov/schema.json")$sleepstudy
d$Subject <- factor(d$Subject, levels = schema$factors$Subject)
d$Daysf <- factor(d$Days, levels = schema$factors$Daysf)
d <- d[order(d$Subject, d$Days), ]
g <- gls(Reaction ~ Daysf, d, correlation = corAR1(form = ~ 1 | Subject),
         weights = varIdent(form = ~ 1 | Daysf), method = "REML",
         control = glsControl(msMaxIter = 500, tolerance = 1e-10, msTol = 1e-10))
ratios <- coef(g$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
sds <- g$sigma * ratios[levels(d$Daysf)]
out <- list(
  id = "sleepstudy_ar1_het_sigma0_reml",
  data = "sleepstudy.csv",
  engine = paste("nlme", packageVersion("nlme")),
  r = "gls(Reaction ~ Daysf, correlation = corAR1(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | Daysf), method = 'REML')",
  python = list(formula = "Reaction ~ Daysf + ar1(0 + Daysf | Subject, hom=False)", reml = TRUE,
                residual = list(NULL, "mf.VarIdent(\"one\")")),
  loglik = as.numeric(logLik(g)),
  beta = as.list(coef(g)),
  se = as.list(sqrt(diag(vcov(g)))),
  rho = unname(coef(g$modelStruct$corStruct, unconstrained = FALSE)),
  sd = as.list(sds)
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/reference/cov_sigma0/sleepstudy_ar1_het_sigma0.json")
