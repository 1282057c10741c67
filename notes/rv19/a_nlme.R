suppressMessages({library(nlme); library(jsonlite)})
a <- commandArgs(TRUE); d <- read.csv(sprintf("/tmp/p13/rv19/%s.csv", a[1])); reml <- a[2] == "REML"
d$grp <- factor(d$grp, levels = c("a", "b"))
f <- lme(y ~ x, random = ~ 1 | Subject, weights = varIdent(form = ~ 1 | grp), data = d, method = if (reml) "REML" else "ML",
         control = lmeControl(maxIter = 500, msMaxIter = 500, opt = "optim", tolerance = 1e-10))
cat(toJSON(list(name = a[1], logLik = as.numeric(logLik(f)), ratio = as.numeric(coef(f$modelStruct$varStruct, unconstrained = FALSE)),
  beta = as.numeric(fixef(f)), sigma = f$sigma, sdint = as.numeric(VarCorr(f)[1, 2])), digits = NA, auto_unbox = TRUE), "\n")
