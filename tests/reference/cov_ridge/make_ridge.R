# The limit of Wheat2's spatial fits with a nugget as the range -> Inf (REML), for
# tests/test_residual_ridge.py and tests/test_residual_heldout.py. Run from the repository root:
#   Rscript tests/reference/cov_ridge/make_ridge.R
# With range r -> Inf and nugget c ~ 1/r, corSpher/corExp give V = s2 (1 - c) J + R', R' -> tau2 I - b D
# (a linear variogram plus a nugget; D the distances). REML is unchanged by adding X A X' to V, and
# the intercept is in col(X) (yield ~ variety - 1), so the s2 J part drops out: the REML
# log-likelihood has the finite limit of the model V = tau2 I - b D (+ any s J making it positive
# definite). Its supremum over tau2 / b is computed here directly (nlme's REML scale: checked
# against nlme at a fixed point), with the GLS estimates and the standard errors of the contrasts
# variety_i - variety_1 (identified in the limit, unlike those of the levels). nlme's own fits held
# at fixed large ranges, the nugget optimized, are listed and converge to the same value.
suppressMessages({library(nlme); library(jsonlite)})
wheat <- read.csv("tests/data/cov/heldout_wheat2.csv")
schema <- fromJSON("tests/data/cov/heldout_schema.json")
wheat$variety <- factor(wheat$variety, levels = schema$wheat2$factors$variety)
wf <- yield ~ variety - 1
X <- model.matrix(wf, wheat); y <- wheat$yield; N <- nrow(X); p <- ncol(X)
D <- as.matrix(dist(wheat[, c("latitude", "longitude")]))
gls_reml <- function(L) {  # REML with sigma profiled for V = sigma^2 L (nlme's scale)
  C <- chol(L); Xw <- backsolve(C, X, transpose = TRUE); yw <- backsolve(C, y, transpose = TRUE)
  R <- chol(crossprod(Xw)); b <- backsolve(R, backsolve(R, crossprod(Xw, yw), transpose = TRUE))
  rss <- sum((yw - Xw %*% b)^2)
  list(loglik = -0.5 * ((N - p) * (log(2 * pi * rss / (N - p)) + 1) + 2 * sum(log(diag(C))) +
                          2 * sum(log(diag(R)))),
       beta = drop(b), s2 = rss / (N - p), cov = chol2inv(R))
}
spher <- function(r, c) { x <- D / r; L <- (1 - c) * ifelse(x < 1, 1 - 1.5 * x + 0.5 * x^3, 0); diag(L) <- 1; L }
at <- gls(wf, data = wheat, correlation = corSpher(c(30, 0.2), form = ~ latitude + longitude, nugget = TRUE, fixed = TRUE))
check <- as.numeric(logLik(at)) - gls_reml(spher(30, 0.2))$loglik
stopifnot(abs(check) < 1e-8)  # the direct formula is nlme's REML scale
limit_model <- function(t, s = 1e4) { L <- s - D; diag(L) <- s + t; gls_reml(L) }
opt <- optimize(function(lt) -limit_model(exp(lt))$loglik, c(-5, 8), tol = 1e-12)
lim <- limit_model(exp(opt$minimum)); lim2 <- limit_model(exp(opt$minimum), s = 1e5)
stopifnot(abs(lim$loglik - lim2$loglik) < 1e-9, max(abs(lim$beta - lim2$beta)) < 1e-7)
Lc <- cbind(-1, diag(p - 1))   # variety_i - variety_1
se_contrast <- sqrt(diag(Lc %*% (lim$s2 * lim$cov) %*% t(Lc)))
ridge <- list()
for (kind in c("corSpher", "corExp")) for (R in c(1e3, 1e4, 1e5, 1e6)) {
  g <- function(lk) -as.numeric(logLik(gls(wf, data = wheat, correlation = get(kind)(c(R, exp(lk) / R), form = ~ latitude + longitude, nugget = TRUE, fixed = TRUE))))
  o <- optimize(g, c(-3, 6), tol = 1e-8)
  ridge[[length(ridge) + 1]] <- list(kind = kind, range = R, nugget_times_range = exp(o$minimum), loglik = -o$objective)
}
out <- list(
  id = "wheat2_ridge_limit_reml", data = "heldout_wheat2.csv", engine = paste("nlme", packageVersion("nlme")),
  r = "REML of yield ~ variety - 1 with V = tau2 I - b D (linear variogram + nugget), the limit of corSpher/corExp(nugget = TRUE) as range -> Inf",
  python = list(formula = "yield ~ 0 + variety", residual = c("mf.Spatial([\"latitude\", \"longitude\"], kind=\"spherical\", nugget=True)", "mf.Spatial([\"latitude\", \"longitude\"], kind=\"exponential\", nugget=True)"), reml = TRUE),
  loglik = lim$loglik, nugget_to_slope = exp(opt$minimum),
  beta = as.list(setNames(lim$beta, colnames(X))),
  se_contrast = as.list(setNames(se_contrast, paste0(colnames(X)[-1], " - ", colnames(X)[1]))),
  nlme_on_the_ridge = ridge,
  nlme_restart_c20 = "gls(wf, data = wheat, correlation = corSpher(c(20, 0.2), form = ~latitude + longitude, nugget = TRUE)) stops at range 390920, loglik -533.418502004 (cov_heldout/wheat2_gls_spher_nugget_reml.json)")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/cov_ridge/wheat2_ridge_limit.json")
cat(sprintf("limit loglik %.10f  t = %.6f\n", lim$loglik, exp(opt$minimum)))
for (r in ridge) cat(sprintf("%s range %g: %.10f\n", r$kind, r$range, r$loglik))
