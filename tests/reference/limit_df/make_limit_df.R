# Satterthwaite df of the GLS that is the sigma -> 0 limit of a structured term with one effect
# per observation, for tests/test_limit_df.py. Run from the repository root:
#   Rscript tests/reference/limit_df/make_limit_df.R
# lmerTest cannot do gls, so the df are computed here from first principles, as lmerTest does for
# lmer fits: nlme's gls gives the estimates; the unprofiled REML deviance of the GLS,
#   d(psi) = log|V| + log|X'V^-1 X| + r'V^-1 r + (n - p) log(2 pi),  V = V(psi) block diagonal,
# is written in psi = (log sigma, atanh(rho) or the structure's own parameters, log variance ratios),
# its minimum polished from nlme's estimates (nlminb), its Hessian H and the Jacobian of
# Var(beta)(psi) = (X'V^-1 X)^-1 there are taken by numDeriv
# (Richardson), and for each coefficient df = 2 Var^2 / (g' (2 H^-1) g). The df are invariant to
# the parameterization of psi.
suppressMessages({library(nlme); library(jsonlite); library(numDeriv)})

# sat_fit: the deviance, its minimum and the df, in sat_dense.R (this directory; source()d from the
# repository root, as this script is run; until session 12 this script held the code as sat_df)
source("tests/reference/limit_df/sat_dense.R")  # sat_fit
# nlme's gls stops short of the optimum (sleepstudy: 2.5e-5 in -2 logLik), where the df of the
# unprofiled Hessian depend on numDeriv's steps (1e-3 relative): sat_fit polishes the optimum first
sat_df <- function(X, y, groups, Vfun, psi, step = 0.1) {
  # Vfun(psi, rows) -> the covariance block of one group's rows (in their order in the data)
  f <- sat_fit(X, y, groups, Vfun, psi, reml = TRUE, step = step)
  cat(sprintf("deviance %.10f -> %.10f\n", f$start_deviance, f$opt$objective))
  f$df
}

arh1 <- function(levels_of) {
  # psi = (log sigma, atanh rho, log ratio of levels 2..K); time = position of the level
  function(psi, rows) {
    lev <- levels_of[rows]; K <- nlevels(levels_of)
    ratio <- c(1, exp(psi[-(1:2)]))[as.integer(lev)]
    pos <- as.integer(lev)
    R <- tanh(psi[2])^abs(outer(pos, pos, "-"))
    exp(2 * psi[1]) * outer(ratio, ratio) * R
  }
}

gls_psi <- function(g) {
  ratios <- coef(g$modelStruct$varStruct, unconstrained = FALSE)
  c(log(g$sigma), atanh(coef(g$modelStruct$corStruct, unconstrained = FALSE)), log(ratios))
}

fits <- list()
# sleepstudy: Reaction ~ Daysf + ar1(0 + Daysf | Subject, hom = FALSE), REML
d <- read.csv("tests/data/cov/sleepstudy.csv")
schema <- fromJSON("tests/data/cov/schema.json")$sleepstudy
d$Subject <- factor(d$Subject, levels = schema$factors$Subject)
d$Daysf <- factor(d$Days, levels = schema$factors$Daysf)
d <- d[order(d$Subject, d$Days), ]
g <- gls(Reaction ~ Daysf, d, correlation = corAR1(form = ~ 1 | Subject),
         weights = varIdent(form = ~ 1 | Daysf), method = "REML",
         control = glsControl(msMaxIter = 500, tolerance = 1e-10, msTol = 1e-10))
# nlme's varIdent ratios are in the order of its strata, not of the levels: put them by level
ratios <- coef(g$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)[levels(d$Daysf)]
psi <- c(log(g$sigma * ratios[1]), atanh(coef(g$modelStruct$corStruct, unconstrained = FALSE)),
         log(ratios[-1] / ratios[1]))
X <- model.matrix(~ Daysf, d)
df <- sat_df(X, d$Reaction, d$Subject, arh1(d$Daysf), psi)
cat("numDeriv steps 0.01 instead of 0.1:", sat_df(X, d$Reaction, d$Subject, arh1(d$Daysf), psi, 0.01) / df - 1, "\n")
fits$sleepstudy_arh1_REML <- list(
  python = "Reaction ~ Daysf + ar1(0 + Daysf | Subject, hom=False)",
  r = "gls(Reaction ~ Daysf, correlation = corAR1(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | Daysf), method = 'REML')",
  data = "tests/data/cov/sleepstudy.csv",
  loglik = as.numeric(logLik(g)),
  beta = as.list(coef(g)), se = as.list(sqrt(diag(vcov(g)))),
  df = as.list(setNames(df, names(coef(g)))))

# Oxboys with rows missing: height ~ age + ar1(0 + occf | Subject, hom = FALSE), REML
o <- read.csv("tests/reference/cov_oxboys/oxboys_miss.csv")
o$Subject <- factor(o$Subject)
o$occf <- factor(o$occf, levels = paste0("v", 1:9))
o <- o[order(o$Subject, o$occ), ]
g2 <- gls(height ~ age, o, correlation = corAR1(form = ~ occ | Subject),
          weights = varIdent(form = ~ 1 | occf), method = "REML",
          control = glsControl(msMaxIter = 500, tolerance = 1e-10, msTol = 1e-10))
ratios2 <- coef(g2$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)[levels(o$occf)]
psi2 <- c(log(g2$sigma * ratios2[1]), atanh(coef(g2$modelStruct$corStruct, unconstrained = FALSE)),
          log(ratios2[-1] / ratios2[1]))
X2 <- model.matrix(~ age, o)
df2 <- sat_df(X2, o$height, o$Subject, arh1(o$occf), psi2)
cat("numDeriv steps 0.01 instead of 0.1:", sat_df(X2, o$height, o$Subject, arh1(o$occf), psi2, 0.01) / df2 - 1, "\n")
fits$oxboys_arh1_REML <- list(
  python = "height ~ age + ar1(0 + occf | Subject, hom=False)",
  r = "gls(height ~ age, correlation = corAR1(form = ~ occ | Subject), weights = varIdent(form = ~ 1 | occf), method = 'REML')",
  data = "tests/reference/cov_oxboys/oxboys_miss.csv",
  loglik = as.numeric(logLik(g2)),
  beta = as.list(coef(g2)), se = as.list(sqrt(diag(vcov(g2)))),
  df = as.list(setNames(df2, names(coef(g2)))))

# Oxboys, height ~ age + cs(0 + occf | Subject): the limit is a CSH GLS (loglik and beta only,
# for the evaluation-count test tests/test_limit_speed.py)
g3 <- gls(height ~ age, o, correlation = corCompSymm(form = ~ 1 | Subject),
          weights = varIdent(form = ~ 1 | occf), method = "REML",
          control = glsControl(msMaxIter = 500, tolerance = 1e-10, msTol = 1e-10))
fits$oxboys_csh_REML <- list(
  python = "height ~ age + cs(0 + occf | Subject)",
  r = "gls(height ~ age, correlation = corCompSymm(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | occf), method = 'REML')",
  data = "tests/reference/cov_oxboys/oxboys_miss.csv",
  loglik = as.numeric(logLik(g3)),
  beta = as.list(coef(g3)), se = as.list(sqrt(diag(vcov(g3)))))

# Oxboys, height ~ age + (1 | grp) + ar1(0 + occf | Subject): grp (halves of the subjects) is
# crossed with Subject; the fit ends at the sigma -> 0 limit with grp's variance 0, i.e. at the
# limit of the nested model height ~ age + ar1(0 + occf | Subject), the homogeneous AR(1) GLS,
# whose df these are (tests/test_limit_df_crossed.py)
ar1h <- function(levels_of) {
  # psi = (log sigma, atanh rho); time = position of the level
  function(psi, rows) {
    pos <- as.integer(levels_of[rows])
    exp(2 * psi[1]) * tanh(psi[2])^abs(outer(pos, pos, "-"))
  }
}
g4 <- gls(height ~ age, o, correlation = corAR1(form = ~ occ | Subject), method = "REML",
          control = glsControl(msMaxIter = 500, tolerance = 1e-10, msTol = 1e-10))
psi4 <- c(log(g4$sigma), atanh(coef(g4$modelStruct$corStruct, unconstrained = FALSE)))
df4 <- sat_df(X2, o$height, o$Subject, ar1h(o$occf), psi4)
cat("numDeriv steps 0.01 instead of 0.1:", sat_df(X2, o$height, o$Subject, ar1h(o$occf), psi4, 0.01) / df4 - 1, "\n")
fits$oxboys_ar1_crossed_REML <- list(
  python = "height ~ age + (1|grp) + ar1(0 + occf | Subject)",
  nested = "height ~ age + ar1(0 + occf | Subject)",
  r = "gls(height ~ age, correlation = corAR1(form = ~ occ | Subject), method = 'REML')",
  data = "tests/reference/cov_oxboys/oxboys_miss.csv",
  loglik = as.numeric(logLik(g4)),
  beta = as.list(coef(g4)), se = as.list(sqrt(diag(vcov(g4)))),
  df = as.list(setNames(df4, names(coef(g4)))))

out <- list(engine = paste("nlme", packageVersion("nlme"), "numDeriv", packageVersion("numDeriv")),
            method = "Satterthwaite from numDeriv's Hessian of the GLS REML deviance (see the script)",
            fits = fits)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
      "tests/reference/limit_df/limit_df.json")
