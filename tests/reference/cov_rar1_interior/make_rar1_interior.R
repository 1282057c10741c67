# Issue 12, session 9 lane rconv: the REML optimum of
#   mf.lmer("height ~ age + ar1(0 + occf | Subject, hom=False)", oxboys_miss,
#           residual=mf.AR1("occ", "Subject"))
# (Oxboys with rows missing, tests/reference/cov_oxboys/oxboys_miss.csv) is interior:
# loglik -301.4826 at rho = 0.99415, phi = 0.99961, sigma = 6.05, above the sigma -> 0 limit
# (-304.586742, the limit GLS of tests/reference/cov_rlimit, which
# tests/test_residual_limit_exact.py asserted for this model before) and above the phi = 1 edge
# (-301.4895: nlminb from the limit starts ends there; the profile over atanh(phi) 4.3 .. 8 falls
# towards it). Used by test_residual_limit_exact.py::
# test_correlated_residual_structure_has_an_interior_optimum (loglik, beta, se, and the two
# "checks": the dense criterion at two points, which mixedfit's criterion must equal).
# The model, written densely here (no mixedfit code): y = X beta + Z b + e,
#   V / sigma^2 = R(phi) + Z G Z',  R(phi)_ij = phi^|occ_i - occ_j| within a Subject (0 across),
#   G_kl = s_k s_l rho^|k - l| over the 9 levels of occf (glmmTMB's ar1 hom=False: heterogeneous
#   relative sds s_k, one correlation rho), sigma^2 profiled; mf.AR1's positions of the integer
#   time occ are occ - min(occ), gaps kept (docs/repeated-measures.md "Time positions").
# REML criterion -2 l = (n - p)(1 + log(2 pi r'V^-1 r / (n - p))) + log|V/sigma^2| + log|X'V^-1 X|
# (lme4's profiled REML deviance). Maximized over (log s, atanh rho, atanh phi) by optim
# (BFGS, Nelder-Mead then BFGS) and nlminb from 10 starts, the limit among them (s x 100).
# Run from the repository root: Rscript tests/reference/cov_rar1_interior/make_rar1_interior.R
library(jsonlite)
d <- read.csv("tests/reference/cov_oxboys/oxboys_miss.csv", stringsAsFactors = FALSE)
n <- nrow(d); X <- cbind(1, d$age); y <- d$height; p <- ncol(X)
Z <- matrix(0, n, 0)
subj <- unique(d$Subject)
for (g in subj) for (k in 1:9) Z <- cbind(Z, as.numeric(d$Subject == g & d$occ == k))
same <- outer(d$Subject, d$Subject, "==")
lagR <- abs(outer(d$occ, d$occ, "-"))
lagG <- abs(outer(1:9, 1:9, "-"))
dev <- function(s, rho, phi) {
  G1 <- outer(s, s) * rho^lagG
  G <- kronecker(diag(length(subj)), G1)
  V <- same * phi^lagR + Z %*% G %*% t(Z)
  C <- tryCatch(chol(V), error = function(e) NULL)
  if (is.null(C)) return(Inf)
  Xw <- backsolve(C, X, transpose = TRUE); yw <- backsolve(C, y, transpose = TRUE)
  A <- crossprod(Xw); beta <- solve(A, crossprod(Xw, yw))
  r2 <- sum((yw - Xw %*% beta)^2)
  (n - p) * (1 + log(2 * pi * r2 / (n - p))) + 2 * sum(log(diag(C))) +
    as.numeric(determinant(A)$modulus)
}
# devb / crit: the same criterion one Subject block at a time, rar1_devb / rar1_crit of
# ../cov_rar1_limit/rar1_dense_criterion.R (source()d from the repository root, as this script is
# run; until session 12 this script held its own copy), q = 9 relative sds
source("tests/reference/cov_rar1_limit/rar1_dense_criterion.R")  # rar1_devb, rar1_crit
devb <- rar1_devb(d, reml = TRUE, y = y, X = X)
crit <- rar1_crit(devb, q = 9)
# phi = 1 exactly (R(phi) = 1 within a Subject: sigma^2 a random intercept's variance)
crit1 <- function(par) crit(par, phi = 1)
fitted <- function(par) {
  s <- exp(par[1:9]); rho <- tanh(par[10]); phi <- tanh(par[11])
  G <- kronecker(diag(length(subj)), outer(s, s) * rho^lagG)
  V <- same * phi^lagR + Z %*% G %*% t(Z)
  C <- chol(V); Xw <- backsolve(C, X, transpose = TRUE); yw <- backsolve(C, y, transpose = TRUE)
  A <- crossprod(Xw); beta <- solve(A, crossprod(Xw, yw)); r2 <- sum((yw - Xw %*% beta)^2)
  sigma2 <- r2 / (n - p)
  list(beta = setNames(as.numeric(beta), c("(Intercept)", "age")),
       se = setNames(sqrt(diag(sigma2 * solve(A))), c("(Intercept)", "age")), sigma = sqrt(sigma2))
}
# check points for mixedfit's criterion: x = (s, rho, u) with mixedfit's u = phi / sqrt(1 - phi^2)
checks <- list(list(s = rep(1, 9), rho = 0.5, phi = 0.3),
               list(s = seq(0.5, 2.1, by = 0.2), rho = 0.9, phi = 0.95))
checks <- lapply(checks, function(ck) c(ck, u = ck$phi / sqrt(1 - ck$phi^2), reml_crit = dev(ck$s, ck$rho, ck$phi)))
set.seed(12)
base <- c(log(seq(0.8, 1.4, length.out = 9)), atanh(0.99), atanh(0.999))
starts <- list(
  limit_s100 = c(log(100 * seq(0.8, 1.4, length.out = 9)), atanh(0.99), atanh(0.5)),
  limit_s30 = c(log(30 * rep(1, 9)), atanh(0.95), atanh(0.9)),
  white = c(rep(0, 9), atanh(0.5), 0),
  conv_point = c(log(c(0.81165084, 0.85085976, 0.86133126, 0.91144949, 0.99168252, 1.01757173,
                       1.17467779, 1.2823303, 1.35420238)), atanh(0.99415265), atanh(0.999606)),
  mid = c(rep(0, 9), atanh(0.9), atanh(0.9)),
  small_s = c(rep(log(0.2), 9), atanh(0.5), atanh(0.99)),
  rand1 = base + rnorm(11, 0, 0.5), rand2 = base + rnorm(11, 0, 0.5),
  rand3 = c(rnorm(9, 0, 1), rnorm(2, 1, 1)), rand4 = c(rnorm(9, 1, 1), rnorm(2, 2, 1)))
runs <- list()
for (nm in names(starts)) {
  st <- starts[[nm]]
  a <- optim(st, crit, method = "BFGS", control = list(maxit = 10000, reltol = 1e-14))
  b <- nlminb(st, crit, control = list(eval.max = 10000, iter.max = 5000, rel.tol = 1e-15))
  runs[[nm]] <- list(bfgs = -a$value / 2, nlminb = -b$objective / 2, par = b$par,
                     rho = tanh(b$par[10]), atanh_phi = b$par[11])
  cat(nm, ": BFGS", -a$value / 2, " nlminb", -b$objective / 2,
      " rho", tanh(b$par[10]), " atanh phi", b$par[11], "\n")
}
# the profile over phi -> 1 (s, rho optimized at each phi) and the fit at phi = 1
b1 <- nlminb(starts$conv_point[1:10], crit1, control = list(eval.max = 10000, iter.max = 5000, rel.tol = 1e-15))
b1 <- nlminb(b1$par, crit1, control = list(eval.max = 10000, iter.max = 5000, rel.tol = 1e-15))
cat("phi = 1:", -b1$objective / 2, "\n")
profile <- list()
for (w in c(4.3, 5, 6, 7, 8)) {
  pw <- nlminb(b1$par, function(q) crit(c(q, w)), control = list(eval.max = 10000, iter.max = 5000, rel.tol = 1e-15))
  profile[[length(profile) + 1]] <- list(atanh_phi = w, phi = tanh(w), loglik = -pw$objective / 2)
  cat("profile atanh phi", w, ":", -pw$objective / 2, "\n")
}
best <- runs[[which.max(sapply(runs, function(r) r$nlminb))]]
best <- nlminb(best$par, crit, control = list(eval.max = 10000, iter.max = 5000, rel.tol = 1e-15))
best <- list(par = best$par, nlminb = -best$objective / 2)
est <- fitted(best$par)
out <- list(
  model = "height ~ age + ar1(0 + occf | Subject, hom=False), residual=mf.AR1('occ', 'Subject'), REML",
  limit_loglik = -304.586742201364,
  loglik = best$nlminb, s = exp(best$par[1:9]), rho = tanh(best$par[10]), phi = tanh(best$par[11]),
  u = sinh(best$par[11]), phi1_loglik = -b1$objective / 2,
  conv_lane_point_loglik = -crit(starts$conv_point) / 2, profile = profile,
  sigma = est$sigma, beta = as.list(est$beta), se = as.list(est$se),
  starts = lapply(runs, function(r) r[c("bfgs", "nlminb", "rho", "atanh_phi")]), checks = checks)
write_json(out, "tests/reference/cov_rar1_interior/rar1_interior.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
