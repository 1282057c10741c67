# Reference for a homogeneous AR(1) random-effects term with one effect per observation plus a
# residual variance per day (mixedfit issue 12, lane cov12b):
#   mf.lmer("Reaction ~ <fx> + ar1(0 + Daysf | Subject)", sleepstudy, residual=mf.VarIdent("Days"))
# for fx in Days, Daysf, REML and ML. A subject's covariance is V = s^2 R(rho) + diag(sigma_j^2),
# R the AR(1) correlation over the 10 days, sigma_j the residual sd of day j. mixedfit writes
# sigma_j = sigma * delta_j (VarIdent ratios, delta_0 = 1, sigma profiled); glmmTMB's
# dispformula = ~ Daysf gives log(sigma_j^2) as a linear predictor (betad; 1.1.5's gaussian
# dispersion is the variance), the same model: the dense recomputation below checks it.
# The supremum lies on the boundary of the variance function: two days' residual variances are 0
# (glmmTMB drives their betad towards -Inf). So besides glmmTMB (several starts, the best kept),
# the log-likelihood is maximised densely with the residual variances themselves as parameters,
# bounded below by 0 (L-BFGS-B from glmmTMB's estimate), which reaches the boundary exactly; the
# JSON's loglik is the best of both. loglik_tmb is glmmTMB's, loglik_dense_at_tmb the dense
# recomputation at glmmTMB's estimate (a check of the parameterization).
# Run from the repository root:  Rscript tests/reference/cov_ar1_varident/make_ar1_varident.R
suppressMessages({library(jsonlite); library(glmmTMB)})
here <- "tests/reference/cov_ar1_varident"
sch <- fromJSON("tests/data/cov/schema.json")$sleepstudy
d <- read.csv(file.path("tests/data/cov", sch$file), stringsAsFactors = FALSE)
for (f in names(sch$factors)) d[[f]] <- factor(as.character(d[[f]]), levels = sch$factors[[f]])
d <- d[order(d$Subject, d$Days), ]
k <- 10
subj <- split(seq_len(nrow(d)), d$Subject)

loglik_at <- function(s, rho, v, X, reml) {
  # v: residual variances per day (length k); every subject has all 10 days in order
  V1 <- s^2 * rho^abs(outer(0:(k - 1), 0:(k - 1), "-")) + diag(v, k)
  L <- chol(V1)
  p <- ncol(X); n <- nrow(d)
  XtViX <- matrix(0, p, p); XtViy <- numeric(p)
  for (i in subj) {
    Xi <- backsolve(L, X[i, , drop = FALSE], transpose = TRUE)
    yi <- backsolve(L, d$Reaction[i], transpose = TRUE)
    XtViX <- XtViX + crossprod(Xi); XtViy <- XtViy + crossprod(Xi, yi)
  }
  beta <- solve(XtViX, XtViy)
  q <- 0
  for (i in subj) {
    r <- backsolve(L, d$Reaction[i] - X[i, , drop = FALSE] %*% beta, transpose = TRUE)
    q <- q + sum(r^2)
  }
  ld <- length(subj) * 2 * sum(log(diag(L)))
  if (reml) {
    ll <- -0.5 * (ld + as.numeric(determinant(XtViX)$modulus) + q + (n - p) * log(2 * pi))
  } else {
    ll <- -0.5 * (ld + q + n * log(2 * pi))
  }
  list(loglik = ll, beta = as.numeric(beta), se = sqrt(diag(solve(XtViX))))
}

out <- list()
for (fx in c("Days", "Daysf")) for (reml in c(TRUE, FALSE)) {
  form <- as.formula(paste("Reaction ~", fx, "+ ar1(0 + Daysf | Subject)"))
  X <- model.matrix(as.formula(paste("~", fx)), d)
  tmb_at <- function(fit) {
    th <- getME(fit, "theta")
    s <- exp(th[1]); rho <- th[2] / sqrt(1 + th[2]^2)
    stopifnot(abs(s - attr(VarCorr(fit)$cond$Subject, "stddev")[1]) < 1e-8 * s)
    nd <- data.frame(Daysf = factor(levels(d$Daysf), levels = levels(d$Daysf)))
    # glmmTMB 1.1.5's gaussian dispersion model is log(sigma_j^2) (predict(type = "disp") gives sigma_j)
    sd <- as.numeric(exp(model.matrix(~ Daysf, nd) %*% fixef(fit)$disp / 2))
    list(s = s, rho = rho, sd = sd, dense = loglik_at(s, rho, sd^2, X, reml))
  }
  # glmmTMB's default start ends in a false convergence far below (-869.6 for Days REML); start
  # the term near a typical AR(1) fit and the residual sds at one common value. A start is
  # judged by the dense log-likelihood at its estimate: one Daysf REML start reports -819.4414
  # where the dense value at its estimate is -819.4952 (its inner problem is degenerate at the
  # boundary), so glmmTMB's own value is kept only as loglik_tmb.
  best <- NULL
  for (st in list(c(log(30), 1, log(13)), c(log(50), 2, log(13)), c(log(45), 2.5, log(20)),
                  c(log(40), 3, log(8)))) {
    fit <- try(suppressWarnings(glmmTMB(form, data = d, REML = reml, dispformula = ~ Daysf,
      start = list(theta = st[1:2], betad = c(2 * st[3], rep(0, k - 1))))), silent = TRUE)
    if (inherits(fit, "try-error")) next
    at <- tmb_at(fit)
    at$tmb <- -fit$fit$objective  # logLik() is NA when the Hessian is singular (a boundary)
    cat(fx, reml, "start", st, "glmmTMB", at$tmb, "dense at its estimate", at$dense$loglik, "\n")
    if (is.finite(at$dense$loglik) && (is.null(best) || at$dense$loglik > best$dense$loglik)) best <- at
  }
  s <- best$s; rho <- best$rho; sd_tmb <- best$sd; at_tmb <- best$dense
  # dense maximisation, residual variances bounded below by 0
  par0 <- c(log(s), atanh(rho), sd_tmb^2)
  negll <- function(par) -loglik_at(exp(par[1]), tanh(par[2]), par[-(1:2)], X, reml)$loglik
  o <- optim(par0, negll, method = "L-BFGS-B", lower = c(-Inf, -Inf, rep(0, k)),
             control = list(factr = 1e2, pgtol = 0, maxit = 5000, parscale = c(1, 1, rep(100, k))))
  o <- optim(o$par, negll, method = "L-BFGS-B", lower = c(-Inf, -Inf, rep(0, k)),
             control = list(factr = 1, pgtol = 0, maxit = 5000))
  cat(fx, reml, "dense optimum", -o$value, "\n")
  s_d <- exp(o$par[1]); rho_d <- tanh(o$par[2]); v_d <- o$par[-(1:2)]
  dense <- loglik_at(s_d, rho_d, v_d, X, reml)
  use_dense <- dense$loglik > at_tmb$loglik
  fin <- if (use_dense) dense else at_tmb
  names(fin$beta) <- names(fin$se) <- colnames(X)
  key <- paste0(fx, if (reml) "_reml" else "_ml")
  out[[key]] <- list(
    r = paste0("glmmTMB(", deparse(form), ", dispformula = ~ Daysf, data = sleepstudy, REML = ",
               reml, ", several starts); then L-BFGS-B on the dense log-likelihood with the ",
               "residual variances >= 0"),
    python = list(formula = paste("Reaction ~", fx, "+ ar1(0 + Daysf | Subject)"), reml = reml,
                  residual = "mf.VarIdent(\"Days\")"),
    loglik = fin$loglik,
    loglik_tmb = best$tmb,
    loglik_dense_at_tmb = at_tmb$loglik,
    source = if (use_dense) "dense L-BFGS-B" else "glmmTMB",
    beta = as.list(fin$beta),
    se = as.list(fin$se),
    term_sd = if (use_dense) s_d else s,
    rho = if (use_dense) rho_d else rho,
    residual_sd = setNames(as.list(sqrt(if (use_dense) v_d else sd_tmb^2)), levels(d$Daysf)),
    residual_sd_tmb = setNames(as.list(sd_tmb), levels(d$Daysf)),
    engine = paste("glmmTMB", packageVersion("glmmTMB"), "/ R", getRversion()))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "sleepstudy_ar1_varident.json"))
