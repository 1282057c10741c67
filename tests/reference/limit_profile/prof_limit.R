# Dense ML profile intervals (95%) of the structured term's parameters at the sigma -> 0 limit,
# i.e. of the equivalent residual-covariance fit (the GLS / lme with the term's covariance as the
# residual covariance). nlme's intervals() are Wald intervals on a transformed scale, so the
# profile is computed here: the ML log-likelihood (beta profiled out, per-subject Cholesky of V)
# is maximized by nlminb over the other parameters at each fixed value, the ends are the roots
# of 2 (l_max - l_prof(v)) = qchisq(0.95, 1) (uniroot). nlme's gls / lme confirm l_max.
# Run: Rscript prof_limit.R (in this directory; writes prof_limit.json).
suppressMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
only <- if (length(args)) args else c("ar1hi", "cs", "toep", "arh1")

ml_fn <- function(X, y, pos, subj, Vfun) {
  idx <- split(seq_along(y), subj)
  function(par) {
    p <- ncol(X); A <- matrix(0, p, p); b <- numeric(p); ld <- 0
    parts <- vector("list", length(idx))
    for (g in seq_along(idx)) {
      i <- idx[[g]]; V <- Vfun(par, pos[i])
      L <- tryCatch(chol(V), error = function(e) NULL)
      if (is.null(L)) return(-1e10)
      Xi <- backsolve(L, X[i, , drop = FALSE], transpose = TRUE)
      yi <- backsolve(L, y[i], transpose = TRUE)
      A <- A + crossprod(Xi); b <- b + crossprod(Xi, yi); ld <- ld + 2 * sum(log(diag(L)))
      parts[[g]] <- list(Xi, yi)
    }
    beta <- tryCatch(solve(A, b), error = function(e) NULL)
    if (is.null(beta)) return(-1e10)
    q <- 0
    for (pr in parts) q <- q + sum((pr[[2]] - pr[[1]] %*% beta)^2)
    -0.5 * (ld + q + length(y) * log(2 * pi))
  }
}

# u (unconstrained) <-> natural parameters, one coordinate each: "sd" exp, "cor" tanh,
# "cs" a correlation in (-1/(k-1), 1)
to_nat <- function(u, kind, k) ifelse(kind == "sd", exp(u), ifelse(kind == "cor", tanh(u),
  -1 / (k - 1) + (k / (k - 1)) * plogis(u)))
to_u <- function(v, kind, k) ifelse(kind == "sd", log(v), ifelse(kind == "cor", atanh(v),
  qlogis((v + 1 / (k - 1)) * (k - 1) / k)))

profile_model <- function(ll, u0, kind, k, which, starts = list(), grid = list()) {
  fn <- function(u) { v <- -ll(to_nat(u, kind, k)); if (is.finite(v)) v else 1e10 }
  best <- nlminb(u0, fn, control = list(iter.max = 2000, eval.max = 4000))
  for (s in starts) { o <- nlminb(s, fn); if (o$objective < best$objective) best <- o }
  uhat <- best$par; l0 <- -best$objective
  est <- to_nat(uhat, kind, k)
  out <- list(loglik_ml = l0, estimate = est)
  for (j in which) {
    warm <- uhat[-j]
    prof <- function(v) {
      f <- function(w) { u <- numeric(length(uhat)); u[-j] <- w; u[j] <- to_u(v, kind[j], k); fn(u) }
      # nlminb's default 150 iterations stop short on the ridge of rho -> 1 (Oxboys arh1:
      # 2 dl 3.84 at sd_v1 = 10.67 where the dense maximum gives 2.35)
      ctl <- list(iter.max = 2000, eval.max = 4000)
      o <- nlminb(warm, f, control = ctl); o2 <- nlminb(uhat[-j], f, control = ctl)
      if (o2$objective < o$objective) o <- o2
      for (s in unique(lapply(grid, function(u) u[-j]))) {  # local optima: more starts
        o2 <- nlminb(s, f, control = ctl); if (o2$objective < o$objective) o <- o2 }
      warm <<- o$par
      -o$objective
    }
    g <- function(v) 2 * (l0 - prof(v)) - qchisq(0.95, 1)
    e <- est[j]
    if (kind[j] == "sd") { lo_b <- e / 20; hi_b <- e * 6 } else {
      low <- if (kind[j] == "cs") -1 / (k - 1) else -1
      lo_b <- low + 1e-7 * (e - low); hi_b <- 1 - 1e-7 * (1 - e) }
    warm <- uhat[-j]
    lo <- if (g(lo_b) < 0) NA else uniroot(g, c(lo_b, e), tol = 1e-10)$root
    warm <- uhat[-j]
    hi <- if (g(hi_b) < 0) NA else uniroot(g, c(e, hi_b), tol = 1e-10)$root
    out[[paste0("p", j)]] <- c(lo, hi)
    cat(sprintf("  parameter %d (%s): estimate %.6f interval [%.6f, %.6f]\n", j, kind[j], e, lo, hi))
  }
  out
}

pacf_to_acf <- function(pi) {  # Durbin-Levinson: lag correlations 1..m from the pacf
  m <- length(pi); phi <- numeric(0); r <- numeric(m)
  for (j in seq_len(m)) {
    new <- c(phi - pi[j] * rev(phi), pi[j])
    r[j] <- if (j == 1) pi[1] else sum(phi * r[(j - 1):1]) + pi[j] * (1 - sum(phi * r[seq_len(j - 1)]))
    phi <- new
  }
  r
}

res <- list()
if ("ar1hi" %in% only) {  # (1|subject) + ar1(0 + tf|subject): V = tau^2 J + s^2 rho^|i-j|
  a <- read.csv("ar1hi.csv", stringsAsFactors = FALSE)
  X <- model.matrix(~t, a)
  Vf <- function(p, pos) p[1]^2 + p[2]^2 * p[3]^abs(outer(pos, pos, "-"))
  ll <- ml_fn(X, a$y, a$t, a$subject, Vf)
  kind <- c("sd", "sd", "cor")
  cat("ar1hi\n")
  grid <- list()  # prof_ml.R's starts (the profile of s has two local optima at small s)
  for (tau in c(0.01, 0.3, 0.8, 1.1, 1.4)) for (s in c(0.5, 1, 1.5)) for (rho in c(0.7, 0.85, 0.95, 0.98))
    grid[[length(grid) + 1]] <- to_u(c(tau, s, rho), kind, 0)
  r <- profile_model(ll, to_u(c(1, 1, 0.95), kind, 0), kind, 0, c(2, 3),
    list(to_u(c(0.1, 1.2, 0.9), kind, 0)), grid)
  m <- lme(y ~ t, random = ~1 | subject, correlation = corAR1(form = ~t | subject), data = a,
    method = "ML")
  cat("  nlme lme ML logLik", format(logLik(m), digits = 12), "dense", format(r$loglik_ml, digits = 12), "\n")
  res$ar1hi <- list(loglik_ml = r$loglik_ml, nlme_loglik_ml = as.numeric(logLik(m)),
    "sd|subject" = r$p2, "rho|subject" = r$p3)
}
if ("cs" %in% only) {  # cs(0 + tf|subject), hom=False: V = D P D, P_ij = rho
  a <- read.csv("cs_limit.csv", stringsAsFactors = FALSE)
  X <- model.matrix(~time, a); k <- 4
  Vf <- function(p, pos) { s <- p[1:4][pos]; P <- matrix(p[5], length(pos), length(pos)); diag(P) <- 1; outer(s, s) * P }
  ll <- ml_fn(X, a$y, a$time, a$subject, Vf)
  kind <- c(rep("sd", 4), "cs")
  cat("cs\n")
  r <- profile_model(ll, to_u(c(1, 1.5, 2, 1.2, 0.5), kind, k), kind, k, 1:5)
  m <- gls(y ~ time, correlation = corCompSymm(form = ~1 | subject),
    weights = varIdent(form = ~1 | tf), data = a, method = "ML")
  cat("  nlme gls ML logLik", format(logLik(m), digits = 12), "dense", format(r$loglik_ml, digits = 12), "\n")
  res$cs <- list(loglik_ml = r$loglik_ml, nlme_loglik_ml = as.numeric(logLik(m)),
    "sd_tft1|subject" = r$p1, "sd_tft2|subject" = r$p2, "sd_tft3|subject" = r$p3,
    "sd_tft4|subject" = r$p4, "rho|subject" = r$p5)
}
if ("toep" %in% only) {  # toep(0 + tf|subject), hom=False: V = D R D, R_ij = acf(|i-j|) of the pacf
  a <- read.csv("toep_limit.csv", stringsAsFactors = FALSE)
  X <- model.matrix(~time, a); k <- 4
  Vf <- function(p, pos) { s <- p[1:4][pos]; r <- c(1, pacf_to_acf(p[5:7]))
    outer(s, s) * matrix(r[abs(outer(pos, pos, "-")) + 1], length(pos)) }
  ll <- ml_fn(X, a$y, a$time, a$subject, Vf)
  kind <- c(rep("sd", 4), rep("cor", 3))
  cat("toep\n")
  r <- profile_model(ll, to_u(c(1.5, 1.5, 1.5, 1.5, 0.7, -0.2, 0), kind, k), kind, k, 1:7)
  res$toep <- list(loglik_ml = r$loglik_ml, "sd_tft1|subject" = r$p1, "sd_tft2|subject" = r$p2,
    "sd_tft3|subject" = r$p3, "sd_tft4|subject" = r$p4, "pacf_1|subject" = r$p5,
    "pacf_2|subject" = r$p6, "pacf_3|subject" = r$p7)
}
if ("arh1" %in% only) {  # Oxboys with rows missing, ar1(0 + occf|Subject, hom=False)
  a <- read.csv("../cov_oxboys/oxboys_miss.csv", stringsAsFactors = FALSE)
  X <- model.matrix(~age, a)
  Vf <- function(p, pos) { s <- p[1:9][pos]; outer(s, s) * p[10]^abs(outer(pos, pos, "-")) }
  ll <- ml_fn(X, a$height, a$occ, a$Subject, Vf)
  kind <- c(rep("sd", 9), "cor")
  cat("arh1\n")
  m <- gls(height ~ age, correlation = corAR1(form = ~occ | Subject),
    weights = varIdent(form = ~1 | occf), data = a, method = "ML")
  s <- m$sigma * coef(m$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)[paste0("v", 1:9)]
  phi <- coef(m$modelStruct$corStruct, unconstrained = FALSE)
  # 10 parameters on the rho -> 1 ridge: uniroot's ~25 profile points per parameter take too
  # long here, so the profile is evaluated at mixedfit's interval ends only, maximized by nlminb
  # (2000 iterations) from the ML optimum and from mixedfit's profile point there (from the
  # optimum alone nlminb stops short at the upper sd ends: 2 dl 7.56 where mixedfit's point,
  # evaluated here, gives 3.84). 2 dl must be qchisq(0.95, 1) = 3.841459 at both ends.
  fn <- function(u) { v <- -ll(to_nat(u, kind, 0)); if (is.finite(v)) v else 1e10 }
  ctl <- list(iter.max = 2000, eval.max = 4000)
  best <- nlminb(to_u(c(s, phi), kind, 0), fn, control = ctl)
  uhat <- best$par; l0 <- -best$objective
  ends <- list(  # parameter, value, mixedfit's point there (9 sds, rho)
    "sd_occfv1|Subject" = list(1, c(5.6957776106, 11.7168537972), list(
      c(5.69577761059, 5.695114723, 6.05207863485, 6.34010616717, 6.46445268835, 6.7978107876, 7.21969586638, 7.37751597992, 7.62501100369, 0.993492104221),
      c(11.7168537972, 11.825406836, 12.7568559565, 13.4019821033, 13.5386702418, 14.3606342419, 14.8550674283, 14.801719155, 15.0639851281, 0.998595403667))),
    "sd_occfv9|Subject" = list(9, c(7.4892154328, 15.1940430072), list(
      c(5.8002062585, 5.77103309793, 6.11869067759, 6.38797889624, 6.48146645409, 6.79673808363, 7.17732677456, 7.28737087321, 7.48921543282, 0.993533155318),
      c(11.6163187293, 11.7521935139, 12.7091610765, 13.3834471827, 13.5435102916, 14.3951255161, 14.9230874399, 14.8988963584, 15.1940430072, 0.998595907108))),
    "rho|Subject" = list(10, c(0.9931451842, 0.9986363201), list(
      c(5.83441837305, 5.8068145074, 6.13586742035, 6.40442961207, 6.52198715135, 6.835117077, 7.26308306925, 7.43460810434, 7.69037381261, 0.993145184217),
      c(11.5609121599, 11.6939392944, 12.6359735512, 13.2946190175, 13.4432287303, 14.2727072386, 14.77341357, 14.7286832929, 14.9949954324, 0.998636320088))))
  res$arh1 <- list(loglik_ml = l0, nlme_loglik_ml = as.numeric(logLik(m)))
  for (name in names(ends)) {
    j <- ends[[name]][[1]]; at <- ends[[name]][[2]]
    dl <- sapply(1:2, function(e) {
      v <- at[e]
      f <- function(w) { u <- numeric(length(uhat)); u[-j] <- w; u[j] <- to_u(v, kind[j], 0); fn(u) }
      o <- nlminb(uhat[-j], f, control = ctl)
      o2 <- nlminb(to_u(ends[[name]][[3]][[e]], kind, 0)[-j], f, control = ctl)
      2 * (l0 + min(o$objective, o2$objective)) })
    cat(sprintf("  %s at %.10f, %.10f: 2 dl %.6f, %.6f\n", name, at[1], at[2], dl[1], dl[2]))
    res$arh1[[name]] <- list(ends = at, twice_dl = dl)
  }
  cat("  nlme gls ML logLik", format(logLik(m), digits = 12), "dense", format(l0, digits = 12), "\n")
}
old <- if (file.exists("prof_limit.json")) jsonlite::fromJSON("prof_limit.json", simplifyVector = FALSE) else list()
for (n in names(res)) old[[n]] <- res[[n]]
writeLines(jsonlite::toJSON(old, digits = 12, auto_unbox = TRUE, pretty = TRUE), "prof_limit.json")
