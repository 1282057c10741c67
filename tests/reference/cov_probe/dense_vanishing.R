# A non-reference VarIdent stratum whose residual variance vanishes (mixedfit issue 12, the
# boundary probe of engine/residual/probe.py must accept it): y ~ stratum + (1 | subject),
# residual = VarIdent(stratum), 40 subjects x strata A-D, one row each (vanishing.csv, written by
# make_probe_data.py): y_C = 12 + 0.6 b_i exactly, so var(y_C) < cov(y_C, y_A) and the supremum
# puts stratum C's residual variance at 0 (A, nlme's reference, stays). As
# ../cov_varident_reference/make_vanished_reference.R: the REML / ML log-likelihood maximised
# densely with the residual variances themselves as parameters, bounded below by 0 (L-BFGS-B from
# several starts, restarted), which reaches the boundary exactly; lme's own fit recorded too.
# Run from the repository root:
#   Rscript tests/reference/cov_probe/dense_vanishing.R
suppressMessages({library(jsonlite); library(nlme)})
here <- "tests/reference/cov_probe"
d <- read.csv(file.path(here, "vanishing.csv"), stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
d <- d[order(d$subject, d$stratum), ]
subj <- split(seq_len(nrow(d)), d$subject)
X <- model.matrix(~ stratum, d)
loglik_at <- function(tau, v, reml) {
  p <- ncol(X); n <- nrow(d)
  XtViX <- matrix(0, p, p); XtViy <- numeric(p); ld <- 0; blocks <- list()
  for (i in subj) {
    g <- as.integer(d$stratum[i])
    L <- chol(tau^2 + diag(v[g], length(i)))
    blocks[[length(blocks) + 1]] <- L
    Xi <- backsolve(L, X[i, , drop = FALSE], transpose = TRUE)
    yi <- backsolve(L, d$y[i], transpose = TRUE)
    XtViX <- XtViX + crossprod(Xi); XtViy <- XtViy + crossprod(Xi, yi)
    ld <- ld + 2 * sum(log(diag(L)))
  }
  beta <- solve(XtViX, XtViy)
  q <- 0
  for (k in seq_along(subj)) {
    i <- subj[[k]]
    r <- backsolve(blocks[[k]], d$y[i] - X[i, , drop = FALSE] %*% beta, transpose = TRUE)
    q <- q + sum(r^2)
  }
  ll <- if (reml) -0.5 * (ld + as.numeric(determinant(XtViX)$modulus) + q + (n - p) * log(2 * pi))
        else -0.5 * (ld + q + n * log(2 * pi))
  list(loglik = ll, beta = as.numeric(beta), se = sqrt(diag(solve(XtViX))))
}
out <- list()
for (reml in c(TRUE, FALSE)) {
  negll <- function(par) -loglik_at(exp(par[1]), par[-1], reml)$loglik
  best <- NULL
  starts <- list(c(log(2), 1, 1, 1, 1), c(log(1), 0.1, 4, 0.5, 2), c(log(3), 2, 2, 2, 0.2))
  for (st in starts) {
    o <- optim(st, negll, method = "L-BFGS-B", lower = c(-Inf, 0, 0, 0, 0),
               control = list(factr = 1, pgtol = 0, maxit = 10000))
    o <- optim(o$par, negll, method = "L-BFGS-B", lower = c(-Inf, 0, 0, 0, 0),
               control = list(factr = 1, pgtol = 0, maxit = 10000))
    if (is.null(best) || o$value < best$value) best <- o
  }
  at <- loglik_at(exp(best$par[1]), best$par[-1], reml)
  method <- if (reml) "REML" else "ML"
  lme_fit <- try(lme(y ~ stratum, random = ~ 1 | subject, data = d, method = method,
                     weights = varIdent(form = ~ 1 | stratum)), silent = TRUE)
  lme_ll <- if (inherits(lme_fit, "try-error")) NA else as.numeric(logLik(lme_fit))
  names(at$beta) <- names(at$se) <- colnames(X)
  out[[tolower(method)]] <- list(
    r = paste0("dense ", method, " log-likelihood of y ~ stratum + (1 | subject) with a residual ",
               "variance per stratum >= 0, L-BFGS-B from three starts"),
    loglik = at$loglik,
    beta = as.list(at$beta),
    se = as.list(at$se),
    subject_sd = exp(best$par[1]),
    residual_sd = setNames(as.list(sqrt(best$par[-1])), levels(d$stratum)),
    lme_loglik = lme_ll,
    engine = paste("R", getRversion(), "/ nlme", packageVersion("nlme")))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "vanishing.json"))
