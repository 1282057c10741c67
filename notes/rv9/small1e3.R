suppressMessages(library(nlme)); s <- read.csv("/tmp/p9/rv9/data/small1e3.csv", stringsAsFactors=FALSE)
f <- lme(y ~ stratum + x, random=~1|subject, data=s, weights=varIdent(form=~1|stratum)); cat("nlme", sprintf("%.10f", logLik(f)), coef(f$modelStruct$varStruct, unconstrained=FALSE), "\n")
