# rv13: RI + ARH(1) (corAR1 + varIdent(visitf)) and RI + Spatial(t, subject) exponential, vs nlme lme
suppressMessages({library(nlme); library(jsonlite)})
d <- read.csv("heldout.csv"); d <- d[!is.na(d$y), ]; d$visitf <- factor(d$visitf)
out <- list()
for (ml in c("REML", "ML")) {
  m <- lme(y ~ t * trt + x, d, random = ~ 1 | id, correlation = corAR1(form = ~ visit | id), weights = varIdent(form = ~ 1 | visitf), method = ml)
  out[[paste0("arh1_", ml)]] <- list(loglik = as.numeric(logLik(m)), beta = as.list(fixef(m)), se = as.list(summary(m)$tTable[, 2]),
     struct = as.list(coef(m$modelStruct, unconstrained = FALSE, allCoef = TRUE)))
  m2 <- lme(y ~ t * trt + x, d, random = ~ 1 | id, correlation = corExp(form = ~ t | id), method = ml)
  out[[paste0("spexp_", ml)]] <- list(loglik = as.numeric(logLik(m2)), beta = as.list(fixef(m2)), se = as.list(summary(m2)$tTable[, 2]),
     struct = as.list(coef(m2$modelStruct, unconstrained = FALSE)))
  cat(ml, logLik(m), logLik(m2), "\n")
}
write_json(out, "ri_arh1_nlme.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
