suppressMessages(library(nlme)); a <- read.csv("/tmp/p9/rv9/data/ar1hi.csv", stringsAsFactors=FALSE)
f <- lme(y ~ t, random=~1|subject, data=a, correlation=corAR1(form=~t|subject), weights=varIdent(form=~1|tf), control=lmeControl(maxIter=500, msMaxIter=500))
cat("nlme RI + corAR1 + varIdent(tf) (the σ→0 limit model):", sprintf("%.9f", logLik(f)), "\n")
