# Issue 12 (lane csml2; rv26 HIGH-1): ML CS fits with few largest subjects whose likelihood rises past the interior
# maximum within rho's resolution. nlme's gls ML fit (its interior local maximum) and the ML log-likelihood at the
# limit point mixedfit evaluates: rho 4 ulps (of a = 1/(M - 1)) above -a, i.e. s = logistic(u) = 4 spacing(a)/(1 + a)
# (spacing(1/4) = spacing(1/3) = 2^-54), nlme's fixed-rho logLik where that rho is a double (M = 5: rho = -1/4 + 2^-52)
# and a dense criterion written in CS's eigenbasis from s (no cancellation: per subject of m rows the Helmert mean
# row and m - 1 contrasts, variances 1 + (m - 1) rho = ((M - m) + (m - 1) M s)/(M - 1) and 1 - rho = (1 + a)(1 - s),
# sigma^2 profiled). cov_cs_exact/cs_exact.R's eigenbasis criterion is for equal sizes and not sourceable (a script),
# hence this one for unequal sizes; it is checked against nlme's logLik at the fitted rho.
# Run here: Rscript cs_ml_limit.R > cs_ml_limit.json
suppressMessages({library(nlme); library(jsonlite)})
rd <- function(f) { d <- read.csv(f, stringsAsFactors = FALSE); d$t <- factor(d$t); d }
helmert <- function(m) if (m == 1) matrix(1) else cbind(1 / sqrt(m), contr.helmert(m) %*% diag(1 / sqrt((1:(m - 1)) * (2:m)), m - 1))
dense_ml <- function(form, d, s, M) {  # -2 loglik (ML, nlme's constants), the CS eigenvalues from s
  X <- model.matrix(form, d); y <- d[[all.vars(form)[1]]]; N <- length(y); a <- 1 / (M - 1)
  within <- (1 + a) * (1 - s); A <- NULL; ld <- 0
  for (i in split(seq_len(N), d$g)) {
    m <- length(i); ones <- ((M - m) + (m - 1) * M * s) / (M - 1)
    B <- t(helmert(m)) %*% cbind(X[i, , drop = FALSE], y[i])
    B <- B / sqrt(c(ones, rep(within, m - 1))); A <- rbind(A, B); ld <- ld + log(ones) + (m - 1) * log(within)
  }
  p <- ncol(X); rss <- sum(qr.resid(qr(A[, 1:p]), A[, p + 1])^2)
  N * (1 + log(2 * pi * rss / N)) + ld
}
s_of <- function(rho, M) (rho + 1 / (M - 1)) / (1 + 1 / (M - 1))
s_lim <- function(M) 4 * 2^-54 / (1 + 1 / (M - 1))
case <- function(file, form, M) {
  d <- rd(file); g <- gls(form, d, correlation = corCompSymm(form = ~ 1 | g), method = "ML")
  rho <- coef(g$modelStruct$corStruct, unconstrained = FALSE)[[1]]; s <- s_lim(M)
  out <- list(loglik = as.numeric(logLik(g)), rho = rho, check_dense_at_rho = -dense_ml(form, d, s_of(rho, M), M) / 2,
              limit_s = s, limit_t = M * s / ((1 + 1 / (M - 1)) * (1 - s)), limit_loglik = -dense_ml(form, d, s, M) / 2)
  if (M == 5) out$limit_nlme_fixed <- as.numeric(logLik(gls(form, d, method = "ML",
    correlation = corCompSymm(-0.25 + 2^-52, form = ~ 1 | g, fixed = TRUE))))
  out
}
out <- list(site_ML = case("extra_visit2.csv", y ~ x + arm + t + site, 5), gls_ML = case("extra_visit2.csv", y ~ x + arm + t, 5),
            small_ML = case("extra_visit1.csv", y ~ x, 4))
# no_interior.csv (make_cs_ml.py): the ML profile over rho (dense, at t = 10^2 ... 10^-15 and the limit point) rises
# all the way to the limit: no interior maximum (mixedfit refuses it; nlme's gls reports where it stopped)
d <- rd("no_interior.csv"); f <- y ~ x + arm + t + site; a <- 1 / 4
s_t <- function(t) t * (1 + a) / (5 + t * (1 + a))  # s of t = 5 s / ((1 + a)(1 - s))
prof <- sapply(c(s_t(10^(2:-15)), s_lim(5)), function(s) -dense_ml(f, d, s, 5) / 2)
g <- tryCatch(gls(f, d, correlation = corCompSymm(form = ~ 1 | g), method = "ML"), error = function(e) conditionMessage(e))
out$no_interior <- list(profile_log10_t = c(2:-15, NA), profile_loglik = prof, increasing = all(diff(prof) > 0),
  nlme = if (is.character(g)) g else list(loglik = as.numeric(logLik(g)), rho = coef(g$modelStruct$corStruct, unconstrained = FALSE)[[1]]))
cat(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE), "\n")
