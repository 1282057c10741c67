# CompoundSymmetry at its lower limit rho -> -1/(m-1) (issue 12, lane csrho; notes/rv22/REPORT.md "refused fits are
# pre-existing"). Data (make_cs_exact.py): cs_exact<seed>.csv are tests/test_residual_kr.py's _boundary_data(seed),
# 30 subjects of m = 4 rows, y = x + errors centred within subject, so the subject means of y equal those of x: the
# fixed effects (1, x) fit the subject means with no residual (up to the rounding of y). cs_near0.csv adds a genuine
# between-subject residual (sd 0.005). Model y ~ x, CS(g) (and + (1 | g)).
# The dense criterion is written in CS's eigenbasis, without forming rho: per subject the mean row sqrt(m) * mean and
# the m - 1 Helmert contrast rows, whose variances are sigma^2 (1 + (m - 1) rho) and sigma^2 (1 - rho); with
# t = (1 + (m - 1) rho) / (1 - rho) > 0 (t -> 0 at the limit) and sigma^2 profiled, the REML / ML deviance is
#   (N - p) log RSS_t + K log t + log |X_t' X_t| (REML), N log RSS_t + K log t (ML), + constants (nlme's),
# with the mean rows divided by sqrt(t). At the exact data it falls by (K - p) log 10 = 64.47 (REML; ML K log 10 =
# 69.08) per decade of t without bound: the likelihood has no maximum (its supremum at the limit); in the stored
# doubles the rounding of y (between RSS ~1e-31) stops the fall at t ~ 1e-32, below what rho's double can hold.
# nlme: gls stops at rho = -1/3 silently and lme with "NA/NaN function evaluation" warnings, each at a different
# log-likelihood (recorded): the optimizer's stopping point on rounding. At cs_near0 the optimum is interior
# (t ~ 1e-4) and nlme's fits agree with the dense optimum; cs_near0_<sd> (between-subject sd 1e-3, 1e-4) are
# test_residual_kr's boundary fits (t ~ 1e-5 / 1e-7: interior), cs_near2_0.0001 seed 2's (Kenward-Roger refused),
# cs_near0_5e-05 (t ~ 1e-8: its saved fit was refused on reload); cs_near0_1e-06 / 1e-07 / 1e-10 (t ~ 2e-12 and below;
# lane cseig: CS whitened from its eigenvalues). Run (in this directory): Rscript cs_exact.R
suppressMessages({library(jsonlite); library(nlme)})
dense <- function(d, t, reml) {
  m <- 4; K <- nrow(d) / m; stopifnot(all(table(d$g) == m))
  H <- cbind(1 / sqrt(m), contr.helmert(m) %*% diag(1 / sqrt((1:(m - 1)) * (2:m))))  # orthonormal, column 1 = mean
  X <- model.matrix(~ x, d); y <- d$y; N <- length(y); p <- ncol(X)
  rot <- function(M) do.call(rbind, lapply(split(seq_len(N), d$g), function(i) t(H) %*% M[i, , drop = FALSE]))
  A <- rot(cbind(X, y)); mean_row <- rep(c(TRUE, rep(FALSE, m - 1)), K)
  A[mean_row, ] <- A[mean_row, ] / sqrt(t)
  q <- qr(A[, 1:p]); rss <- sum(qr.resid(q, A[, p + 1])^2); ldx <- 2 * sum(log(abs(diag(qr.R(q)))))
  ldc <- K * log(t)  # lambda_2 = 1: sigma^2 profiled, the criterion is invariant to V's scale
  if (reml) (N - p) * (1 + log(2 * pi * rss / (N - p))) + ldc + ldx
  else N * (1 + log(2 * pi * rss / N)) + ldc
}
rho_of <- function(t, m = 4) (t - 1) / (t + m - 1)
caught <- function(expr) {
  w <- character(0)
  r <- withCallingHandlers(tryCatch(expr, error = function(e) conditionMessage(e)),
                           warning = function(x) { w <<- c(w, conditionMessage(x)); invokeRestart("muffleWarning") })
  list(r = r, warnings = unique(w))
}
summ <- function(fit) {
  if (is.character(fit$r)) return(list(error = fit$r, warnings = fit$warnings))
  cs <- fit$r$modelStruct$corStruct
  list(loglik = as.numeric(logLik(fit$r)), rho = unname(coef(cs, unconstrained = FALSE)),
       rho_unconstrained = unname(coef(cs, unconstrained = TRUE)), beta = unname(fixef_or_coef(fit$r)),
       warnings = fit$warnings)
}
fixef_or_coef <- function(f) if (inherits(f, "lme")) fixef(f) else coef(f)
out <- list()
for (f in c("cs_exact0.csv", "cs_exact2.csv", "cs_near0.csv", "cs_near0_0.001.csv", "cs_near0_0.0001.csv", "cs_near0_5e-05.csv",
            "cs_near2_0.0001.csv", "cs_near0_1e-06.csv", "cs_near0_1e-07.csv", "cs_near0_1e-10.csv")) {
  d <- read.csv(f); d$g <- factor(d$g)
  res <- list(max_abs_mean_y_minus_mean_x = max(abs(tapply(d$y, d$g, mean) - tapply(d$x, d$g, mean))))
  for (meth in c("REML", "ML")) {
    reml <- meth == "REML"
    res[[paste0("gls_", meth)]] <- summ(caught(gls(y ~ x, d, correlation = corCompSymm(form = ~ 1 | g), method = meth)))
    res[[paste0("lme_", meth)]] <- summ(caught(lme(y ~ x, d, random = ~ 1 | g, correlation = corCompSymm(form = ~ 1 | g),
                                                  method = meth)))
    lt <- -(0:14)
    prof <- sapply(10^lt, function(t) dense(d, t, reml))
    o <- optimize(function(u) dense(d, exp(u), reml), c(-40, 5), tol = 1e-12)  # at exact data: at -40, the search's end
    res[[paste0("dense_", meth)]] <- list(log10_t = lt, deviance = prof, per_decade = diff(prof),
                                          optimum_t = exp(o$minimum), optimum_rho = rho_of(exp(o$minimum)),
                                          optimum_loglik = -o$objective / 2)
    # the eigenbasis criterion checked against nlme's at a fixed interior rho (t = 0.5)
    g5 <- gls(y ~ x, d, correlation = corCompSymm(rho_of(0.5), form = ~ 1 | g, fixed = TRUE), method = meth)
    res[[paste0("check_", meth)]] <- c(nlme = as.numeric(logLik(g5)), dense = -dense(d, 0.5, reml) / 2)
    cat(f, meth, "gls", res[[paste0("gls_", meth)]]$loglik, "lme", res[[paste0("lme_", meth)]]$loglik,
        "dense opt", -o$objective / 2, "t", exp(o$minimum), "check", res[[paste0("check_", meth)]], "\n")
    cat("  per decade", round(diff(prof), 3), "\n")
  }
  out[[sub(".csv", "", f)]] <- res
}
# y ~ x + g (the subject as a fixed factor): every REML error contrast sums to 0 within subject, the REML
# log-likelihood is the same at every rho (nlme's gls returns its start); the ML one rises towards the limit.
d <- read.csv("cs_subject_fixed.csv"); d$g <- factor(d$g)
rhos <- c(-0.3, 0, 0.5)
fixed_ll <- function(meth) sapply(rhos, function(r) as.numeric(logLik(gls(y ~ x + g, d, method = meth,
  correlation = corCompSymm(r, form = ~ 1 | g, fixed = TRUE)))))
free <- gls(y ~ x + g, d, correlation = corCompSymm(form = ~ 1 | g))
out$cs_subject_fixed <- list(rho = rhos, REML = fixed_ll("REML"), ML = fixed_ll("ML"),
                             gls_REML_rho = unname(coef(free$modelStruct$corStruct, unconstrained = FALSE)))
print(out$cs_subject_fixed)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "cs_exact.json")
