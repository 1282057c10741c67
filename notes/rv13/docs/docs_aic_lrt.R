# rv13: R side of docs/repeated-measures.md's AIC table and LRTs (Orthodont, nlme)
suppressMessages(library(nlme)); library(jsonlite)
d <- as.data.frame(Orthodont); d$agef <- factor(d$age); d$Subject <- factor(as.character(d$Subject))
d$occ <- as.integer(d$agef)
f <- distance ~ Sex * age
fits <- list(
  CS = gls(f, d, correlation = corCompSymm(form = ~ 1 | Subject)),
  CSH = gls(f, d, correlation = corCompSymm(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | agef)),
  AR1 = gls(f, d, correlation = corAR1(form = ~ occ | Subject)),
  ARH1 = gls(f, d, correlation = corAR1(form = ~ occ | Subject), weights = varIdent(form = ~ 1 | agef)),
  TOEP = gls(f, d, correlation = corARMA(form = ~ occ | Subject, p = 3)),
  UN = gls(f, d, correlation = corSymm(form = ~ occ | Subject), weights = varIdent(form = ~ 1 | agef)),
  RI = lme(f, d, random = ~ 1 | Subject),
  RI_AR1 = lme(f, d, random = ~ 1 | Subject, correlation = corAR1(form = ~ occ | Subject)))
tab <- t(sapply(fits, function(m) c(npar = attr(logLik(m), "df"), loglik = as.numeric(logLik(m)), AIC = AIC(m), BIC = BIC(m))))
print(tab[order(tab[, "AIC"]), ], digits = 8)
print(anova(fits$CS, fits$CSH, fits$UN))
print(anova(fits$RI, fits$RI_AR1))
small <- gls(distance ~ age, d, correlation = corCompSymm(form = ~ 1 | Subject), method = "ML")
unml <- update(fits$UN, method = "ML")
print(anova(small, unml))
