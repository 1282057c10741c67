# The REML optimum of height ~ age + (1|Subject) + ar1(0 + occf | Subject, hom=False) on Oxboys
# with rows missing (tests/reference/cov_oxboys/oxboys_miss.csv), written densely: per subject
# V = Z G Z' + sigma^2 I with G = tau^2 J + D R D, D = diag(s_occ), R[k, l] = rho^|k - l| over the
# occasion levels v1..v9 (glmmTMB's ar1 on factor levels), sigma^2 profiled out. nlme fails on
# these data and glmmTMB stops short (the optimum has rho = 0.9956 on a ridge), so the criterion is
# maximised directly by optim (BFGS, then Nelder-Mead) and nlminb from several starts, in the
# parameters (log tau, log s_1..9, atanh rho) relative to sigma. Run from the repository root:
#   Rscript tests/reference/cov_ri_arh/make_ri_arh.R
suppressMessages(library(jsonlite))
d <- read.csv("tests/reference/cov_oxboys/oxboys_miss.csv", stringsAsFactors = FALSE)
d$Subject <- as.character(d$Subject)
X <- cbind(1, d$age); y <- d$height; n <- nrow(d); p <- ncol(X)
occ <- as.integer(sub("v", "", d$occf))
groups <- split(seq_len(n), d$Subject)
theta_of <- function(par) c(exp(par[1:10]), tanh(par[11]))
# the REML criterion (-2 log restricted likelihood, lme4's constant) at theta = (tau, s, rho) / sigma
parts <- function(theta) {
  tau <- theta[1]; s <- theta[2:10]; rho <- theta[11]
  XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0
  Wg <- list()
  for (g in groups) {
    k <- occ[g]
    W <- diag(length(g)) + tau^2 + outer(s[k], s[k]) * rho^abs(outer(k, k, "-"))
    C <- chol(W)
    Xw <- backsolve(C, X[g, , drop = FALSE], transpose = TRUE)
    yw <- backsolve(C, y[g], transpose = TRUE)
    XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2)
    logdet <- logdet + 2 * sum(log(diag(C)))
  }
  beta <- solve(XVX, XVy)
  r2 <- yVy - sum(XVy * beta)
  list(beta = drop(beta), r2 = r2, logdet = logdet, XVX = XVX)
}
crit <- function(theta) {
  q <- parts(theta)
  (n - p) * (1 + log(2 * pi * q$r2 / (n - p))) + q$logdet + as.numeric(determinant(q$XVX)$modulus)
}
f <- function(par) { v <- tryCatch(crit(theta_of(par)), error = function(e) Inf); if (is.finite(v)) v else 1e10 }
starts <- list(
  c(log(20), log(seq(12, 26, length.out = 9)), atanh(0.99)),
  c(log(5), rep(log(5), 9), atanh(0.5)),
  c(log(10), rep(log(20), 9), atanh(0.9)),
  c(log(30), rep(log(10), 9), atanh(0.999)),
  c(log(1), rep(log(30), 9), atanh(0.95))
)
runs <- list()
for (i in seq_along(starts)) {
  a <- optim(starts[[i]], f, method = "BFGS", control = list(maxit = 10000, reltol = 1e-15))
  b <- optim(a$par, f, method = "Nelder-Mead", control = list(maxit = 50000, reltol = 1e-15))
  c <- nlminb(b$par, f, control = list(eval.max = 10000, iter.max = 5000, rel.tol = 1e-15))
  runs[[i]] <- list(start = i, optim_bfgs = -a$value / 2, nelder_mead = -b$value / 2,
                    nlminb = -c$objective / 2, par = c$par)
}
vals <- sapply(runs, function(r) r$nlminb)
best <- runs[[which.max(vals)]]
theta <- theta_of(best$par)
q <- parts(theta)
sigma2 <- q$r2 / (n - p)
vcov <- sigma2 * solve(q$XVX)
out <- list(
  data = "../cov_oxboys/oxboys_miss.csv",
  python = "height ~ age + (1|Subject) + ar1(0 + occf | Subject, hom=False)",
  reml = TRUE,
  r = paste("dense REML criterion, optim BFGS + Nelder-Mead + nlminb from", length(starts), "starts;", R.version.string),
  loglik = -crit(theta) / 2,
  loglik_by_start = vals,
  theta = theta,
  sigma = sqrt(sigma2),
  beta = q$beta,
  se = sqrt(diag(vcov))
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/cov_ri_arh/ri_arh_reml.json")
