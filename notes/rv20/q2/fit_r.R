# rv20 Q2: nlme fits of the cases (cases.json) -> r_<name>.json
suppressMessages({library(nlme); library(jsonlite)})
cases <- fromJSON("cases.json")
out <- list()
for (i in seq_len(nrow(cases))) {
  nm <- cases$name[i]; md <- cases$model[i]; meth <- if (cases$reml[i]) "REML" else "ML"
  d <- read.csv(sprintf("%s.csv", nm)); d$grp <- factor(d$grp, levels = c("a", "b"))
  ctl <- lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, msTol = 1e-12, tolerance = 1e-10, opt = "optim")
  ctl2 <- lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, msTol = 1e-12, tolerance = 1e-10)
  f <- function(c) switch(md,
    lme_slope_ar1 = lme(y ~ x, random = ~ x | Subject, correlation = corAR1(form = ~ time | Subject), data = d, method = meth, control = c),
    lme_int_vi = lme(y ~ x, random = ~ 1 | Subject, weights = varIdent(form = ~ 1 | grp), data = d, method = meth, control = c),
    gls_ar1_power = gls(y ~ x, correlation = corAR1(form = ~ time | Subject), weights = varPower(form = ~ v), data = d, method = meth, control = glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12)),
    lme_slope_ar1_vi = lme(y ~ x, random = ~ x | Subject, correlation = corAR1(form = ~ time | Subject), weights = varIdent(form = ~ 1 | grp), data = d, method = meth, control = c))
  fits <- list(tryCatch(f(ctl2), error = function(e) NULL), tryCatch(f(ctl), error = function(e) NULL))
  ll <- sapply(fits, function(m) if (is.null(m)) NA else as.numeric(logLik(m)))
  b <- fits[[which.max(ll)]]
  out[[nm]] <- list(loglik_nlminb = ll[1], loglik_optim = ll[2], beta = as.numeric(if (inherits(b, "gls")) coef(b) else fixef(b)),
                    se = sqrt(diag(vcov(b))), modelStruct = unlist(lapply(coef(b$modelStruct, unconstrained = FALSE), identity)))
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
