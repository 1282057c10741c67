# glmmTMB reference for a homogeneous Toeplitz random-effects term with one effect per
# observation (mixedfit issue 12, lane toep):
#   Reaction ~ Days + toep(0 + Daysf | Subject)  and  Reaction ~ Daysf + toep(...), REML, sleepstudy.
# glmmTMB's toep has one sd per column; the sds are tied to one (homogeneous, mixedfit's hom=True)
# with map = list(theta = ...). With one effect per observation s^2 P + sigma^2 I spans the
# positive definite Toeplitz V, so the split of the lag-0 variance between s^2 and sigma^2 is not
# identified (a ridge: glmmTMB's Hessian is singular, so no standard errors of the theta are
# stored); the log-likelihood and the fixed effects are. As a check, the REML log-likelihood is
# recomputed densely at glmmTMB's V (loglik_dense); several starts, the best kept.
# Run from the repository root:  Rscript tests/reference/structured_toep/make_toep_tmb.R
suppressMessages({library(jsonlite); library(glmmTMB)})
here <- "tests/reference/structured_toep"
sch <- fromJSON("tests/data/cov/schema.json")$sleepstudy
d <- read.csv(file.path("tests/data/cov", sch$file), stringsAsFactors = FALSE)
for (f in names(sch$factors)) d[[f]] <- factor(as.character(d[[f]]), levels = sch$factors[[f]])
k <- 10
dense_reml <- function(fit, X) {
  vc <- VarCorr(fit)$cond$Subject
  s2 <- sigma(fit)^2
  V1 <- as.matrix(vc) + diag(s2, k)
  n <- nrow(d); p <- ncol(X)
  Vi <- solve(V1)
  ll <- 0; XtViX <- matrix(0, p, p); XtViy <- numeric(p)
  for (g in levels(d$Subject)) {
    i <- which(d$Subject == g); o <- order(d$Days[i]); i <- i[o]
    XtViX <- XtViX + t(X[i, , drop = FALSE]) %*% Vi %*% X[i, , drop = FALSE]
    XtViy <- XtViy + t(X[i, , drop = FALSE]) %*% Vi %*% d$Reaction[i]
  }
  beta <- solve(XtViX, XtViy)
  q <- 0
  for (g in levels(d$Subject)) {
    i <- which(d$Subject == g); o <- order(d$Days[i]); i <- i[o]
    r <- d$Reaction[i] - X[i, , drop = FALSE] %*% beta
    q <- q + sum(r * (Vi %*% r))
  }
  ld <- 18 * as.numeric(determinant(V1)$modulus)
  -0.5 * (ld + as.numeric(determinant(XtViX)$modulus) + q + (n - p) * log(2 * pi))
}
out <- list()
for (fx in c("Days", "Daysf")) {
  form <- as.formula(paste("Reaction ~", fx, "+ toep(0 + Daysf | Subject)"))
  best <- NULL
  for (st in list(c(log(30), 1), c(log(50), 2), c(log(20), 0.5), c(log(40), 3))) {
    theta0 <- c(rep(st[1], k), rep(st[2], k - 1))
    fit <- try(suppressWarnings(glmmTMB(form, data = d, REML = TRUE,
      map = list(theta = factor(c(rep(1, k), 2:k))),
      start = list(theta = theta0, betad = log(15)))), silent = TRUE)
    if (inherits(fit, "try-error")) next
    ll <- as.numeric(logLik(fit))
    cat(fx, "start", st, "loglik", ll, "\n")
    if (is.finite(ll) && (is.null(best) || ll > as.numeric(logLik(best)))) best <- fit
  }
  X <- model.matrix(as.formula(paste("~", fx)), d)
  out[[fx]] <- list(
    r = paste0("glmmTMB(", deparse(form), ", data = sleepstudy, REML = TRUE, ",
               "map = list(theta = factor(c(rep(1, 10), 2:10))), several starts)"),
    python = list(formula = paste("Reaction ~", fx, "+ toep(0 + Daysf | Subject, hom=True)"),
                  reml = TRUE),
    loglik = as.numeric(logLik(best)),
    loglik_dense = dense_reml(best, X),
    beta = as.list(fixef(best)$cond),
    # of the marginal V = s^2 P + sigma^2 I of a subject (identified; P and sigma are not)
    v_variance = as.numeric(VarCorr(best)$cond$Subject[1, 1] + sigma(best)^2),
    v_lag_correlations = as.numeric((VarCorr(best)$cond$Subject[2:k, 1]) /
      (VarCorr(best)$cond$Subject[1, 1] + sigma(best)^2)),
    engine = paste("glmmTMB", packageVersion("glmmTMB")))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "sleepstudy_tmb_toep_hom_reml.json"))
