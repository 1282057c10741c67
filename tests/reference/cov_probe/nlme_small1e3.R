# nlme reference for small1e3.csv (make_sims.small(seed=12, ratio=1e-3, reps=3) of review rv9): B sd 1e-3 of A.
# Run from tests/reference/cov_probe: Rscript nlme_small1e3.R -> small1e3.json
suppressMessages(library(nlme)); s <- read.csv("small1e3.csv", stringsAsFactors=FALSE)
f <- lme(y ~ stratum + x, random=~1|subject, data=s, weights=varIdent(form=~1|stratum)); cat("nlme", sprintf("%.10f", logLik(f)), coef(f$modelStruct$varStruct, unconstrained=FALSE), "\n")
