suppressMessages(library(nlme))
s <- read.csv("/tmp/p9/rv9/data/small5e5.csv", stringsAsFactors=FALSE)
for (o in c("nlminb","optim")) for (m in c("REML","ML")) {
 f <- lme(y ~ stratum + x, random=~1|subject, data=s, weights=varIdent(form=~1|stratum), method=m, control=lmeControl(maxIter=1000,msMaxIter=1000, opt=o, msTol=1e-14, tolerance=1e-10, niterEM=0))
 cat(o, m, sprintf("%.10f", logLik(f)), coef(f$modelStruct$varStruct, unconstrained=FALSE), "\n")
 ss <- s[sample(nrow(s)),]
 f <- lme(y ~ stratum + x, random=~1|subject, data=ss, weights=varIdent(form=~1|stratum), method=m, control=lmeControl(maxIter=1000,msMaxIter=1000, opt=o, msTol=1e-14, tolerance=1e-10, niterEM=0))
 cat(o, m, "shuffled", sprintf("%.10f", logLik(f)), coef(f$modelStruct$varStruct, unconstrained=FALSE), "\n")
}
