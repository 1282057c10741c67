# rv13: nested RE (1|site/id) + AR1 & VarPower vs nlme
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("gterms.csv"); d <- d[!is.na(d$y), ]
out <- list()
for (ml in c("REML", "ML")) {
  m <- lme(y ~ t * trt + x, d, random = ~ 1 | site/id, correlation = corAR1(form = ~ visit | site/id), weights = varPower(form = ~ tp), method = ml)
  tt <- summary(m)$tTable
  out[[ml]] <- list(loglik = as.numeric(logLik(m)), beta = as.list(tt[, 1]), se = as.list(tt[, 2]), struct = as.list(coef(m$modelStruct, unconstrained = FALSE)))
  cat(ml, logLik(m), "\n")
}
write_json(out, "nested_nlme.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
