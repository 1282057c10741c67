suppressMessages(library(nlme))
for (l in c("white", "car1")) { d <- read.csv(sprintf("big_%s.csv", l))
  m <- tryCatch(lme(y ~ t, random = ~ 1 | id, correlation = corCAR1(form = ~ t | id), data = d, method = "ML"), error = function(e) NULL)
  m0 <- lme(y ~ t, random = ~ 1 | id, data = d, method = "ML")
  cat(l, if (is.null(m)) NA else sprintf("%.10f", logLik(m)), if (is.null(m)) NA else coef(m$modelStruct$corStruct, unconstrained = FALSE), "noCAR", sprintf("%.10f", logLik(m0)), "\n") }
