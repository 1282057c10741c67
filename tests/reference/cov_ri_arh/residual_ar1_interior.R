# A finding of session 9 (lane conv), for the lead: NOT used by any test.
# tests/test_residual_limit_exact.py::test_correlated_residual_structure_reaches_the_limit_with_nan_df
# asserts that height ~ age + ar1(0 + occf | Subject, hom=False) with residual=mf.AR1("occ", "Subject")
# (REML, Oxboys with rows missing) has its supremum at the sigma -> 0 limit, loglik -304.586742201364
# (tests/reference/cov_rlimit/rlimit.json, grp_REML). The model's REML criterion written densely here
# (V = Z G Z' + sigma^2 R(phi), G the heterogeneous AR(1) over occasion levels, R(phi) = phi^|occ_i - occ_j|,
# sigma^2 profiled) is higher at an interior point: -301.4826 at s/sigma = (0.812 ... 1.355),
# rho = 0.99415, phi = 0.99961 (sigma = 6.05), found by mixedfit's unbounded-coordinate optimizer
# (engine/crawl.py, which this branch keeps off the residual path: ridge=False) and confirmed by
# optim BFGS + nlminb here from that point. Output (R 4.2.2):
#   at mixedfit's point: -301.4826
#   optim BFGS: -301.4826  nlminb: -301.4826
#   par: 0.8120863 0.8513143 0.8617749 0.9119025 0.9921302 1.018022 1.175131 1.282777 1.354654 0.9941499 0.9996121
# Run from the repository root: Rscript tests/reference/cov_ri_arh/residual_ar1_interior.R
d <- read.csv("tests/reference/cov_oxboys/oxboys_miss.csv", stringsAsFactors = FALSE)
X <- cbind(1, d$age); y <- d$height; n <- nrow(d); p <- 2
occ <- d$occ; groups <- split(seq_len(n), as.character(d$Subject))
crit <- function(par) {
  s <- exp(par[1:9]); rho <- tanh(par[10]); phi <- tanh(par[11])
  XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0
  for (g in groups) {
    k <- occ[g]
    W <- phi^abs(outer(k, k, "-")) + outer(s[k], s[k]) * rho^abs(outer(k, k, "-"))
    C <- tryCatch(chol(W), error = function(e) NULL); if (is.null(C)) return(1e10)
    Xw <- backsolve(C, X[g, , drop = FALSE], transpose = TRUE); yw <- backsolve(C, y[g], transpose = TRUE)
    XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2)
    logdet <- logdet + 2 * sum(log(diag(C)))
  }
  beta <- solve(XVX, XVy); r2 <- yVy - sum(XVy * beta)
  (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet + as.numeric(determinant(XVX)$modulus)
}
th <- c(0.81165084, 0.85085976, 0.86133126, 0.91144949, 0.99168252, 1.01757173, 1.17467779, 1.2823303, 1.35420238)
st <- c(log(th), atanh(0.99415265), atanh(0.999606))
cat("at mixedfit's point:", -crit(st) / 2, "\n")
a <- optim(st, crit, method = "BFGS", control = list(maxit = 5000, reltol = 1e-15))
b <- nlminb(a$par, crit, control = list(eval.max = 5000, iter.max = 3000, rel.tol = 1e-15))
cat("optim BFGS:", -a$value / 2, " nlminb:", -b$objective / 2, "\n")
cat("par:", exp(b$par[1:9]), tanh(b$par[10:11]), "\n")
