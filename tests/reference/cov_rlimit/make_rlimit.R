# Issue 12 (lane rlimit): ar1(0 + occf | Subject, hom = FALSE) with a residual VarIdent on the
# Oxboys data with rows missing (tests/reference/cov_oxboys/oxboys_miss.csv). Run from the
# repository root:  Rscript tests/reference/cov_rlimit/make_rlimit.R
# The model V_i = Z_i G Z_i' + sigma^2 diag(delta_grp) (G: heterogeneous AR(1) by occasion) has
# the GLS gls(corAR1(~occ|Subject), varIdent(~1|occf)) as its sigma -> 0 limit. nlme cannot fit
# the model itself; its (REML and ML) likelihood is written out below and maximized by optim from
# many starts (interior ones and ones near the limit): the supremum is the limit GLS's, i.e. the
# best interior point found is below it and approaches it as sigma -> 0.
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("tests/reference/cov_oxboys/oxboys_miss.csv", colClasses = c(Subject = "character"))
d$occf <- factor(d$occf, levels = paste0("v", 1:9))
d$one <- "a"
gctl <- glsControl(msMaxIter = 500, maxIter = 500, tolerance = 1e-10, msTol = 1e-10)
X <- model.matrix(~ age, d)
y <- d$height
n <- nrow(X); p <- ncol(X)
blocks <- split(seq_len(n), d$Subject)
# -2 loglik of V = G-part + sigma^2 * delta[grp]; par: log sd (9), atanh rho, log sigma, log ratios
dev <- function(par, reml, strata) {
  v <- tryCatch(dev1(par, reml, strata), error = function(e) 1e10)
  if (is.finite(v)) v else 1e10
}
dev1 <- function(par, reml, strata) {
  sds <- exp(par[1:9]); rho <- tanh(par[10]); s <- exp(par[11])
  lev <- unique(strata)
  delta <- c(1, exp(par[-(1:11)]))[match(strata, lev)]
  XVX <- matrix(0, p, p); XVy <- numeric(p); ld <- 0
  Ls <- list()
  for (b in blocks) {
    o <- d$occ[b]
    V <- outer(sds[o], sds[o]) * rho^abs(outer(o, o, "-")) + diag(s^2 * delta[b]^2, length(b))
    L <- tryCatch(chol(V), error = function(e) NULL)
    if (is.null(L)) return(1e10)
    ld <- ld + 2 * sum(log(diag(L)))
    Xw <- backsolve(L, X[b, , drop = FALSE], transpose = TRUE)
    yw <- backsolve(L, y[b], transpose = TRUE)
    XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw)
    Ls[[length(Ls) + 1]] <- list(Xw = Xw, yw = yw)
  }
  beta <- solve(XVX, XVy)
  r2 <- sum(sapply(Ls, function(l) sum((l$yw - l$Xw %*% beta)^2)))
  if (reml) (n - p) * log(2 * pi) + ld + as.numeric(determinant(XVX)$modulus) + r2
  else n * log(2 * pi) + ld + r2
}
out <- list(data = "../cov_oxboys/oxboys_miss.csv", engine = paste("nlme", packageVersion("nlme")),
            fits = list())
for (meth in c("REML", "ML")) {
  reml <- meth == "REML"
  g <- gls(height ~ age, d, correlation = corAR1(form = ~ occ | Subject), method = meth,
           weights = varIdent(form = ~ 1 | occf), control = gctl)
  # the gls's own parameters in dev()'s terms, to check dev() against logLik (constant)
  ratio <- coef(g$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  ratio <- ratio[paste0("v", 1:9)]
  sds <- g$sigma * ratio
  rho <- coef(g$modelStruct$corStruct, unconstrained = FALSE)
  for (grp in c("grp", "one")) {
    strata <- d[[grp]]
    k <- length(unique(strata)) - 1
    const <- -0.5 * dev(c(log(sds), atanh(rho), log(1e-8), rep(0, k)), reml, strata) -
      as.numeric(logLik(g))
    best <- -Inf
    set.seed(1)
    for (start in 1:12) {
      s0 <- if (start <= 6) log(c(0.3, 1, 3, 0.1, 0.5, 2)[start]) else log(1e-3)
      par0 <- c(log(sds) + rnorm(9, 0, 0.1), atanh(min(rho, 0.99)) + rnorm(1, 0, 0.1), s0,
                rnorm(k, 0, 0.3))
      o <- optim(par0, dev, reml = reml, strata = strata, method = "BFGS",
                 control = list(maxit = 5000, reltol = 1e-14))
      ll <- -0.5 * o$value - const
      if (ll > best) { best <- ll; bestpar <- o$par }
    }
    key <- paste0(grp, "_", meth)
    out$fits[[key]] <- list(
      python = "height ~ age + ar1(0 + occf | Subject, hom=False)",
      residual = paste0("VarIdent('", grp, "')"), reml = reml,
      r = "gls(corAR1(~occ|Subject), varIdent(~1|occf))",
      loglik = as.numeric(logLik(g)), beta = as.list(coef(g)), se = as.list(sqrt(diag(vcov(g)))),
      best_optim_loglik = best, best_optim_sigma = exp(bestpar[11]),
      dev_constant = const)
  }
}
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/cov_rlimit/rlimit.json")
