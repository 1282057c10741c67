suppressMessages(library(nlme)); d <- read.csv('/tmp/p16/rv25/extra_visit2.csv'); d$t <- factor(d$t)
for (m in c("ML","REML")) { f <- gls(y ~ x + arm + t, d, correlation=corCompSymm(form=~1|g), method=m)
 cat(m, "logLik", format(as.numeric(logLik(f)),digits=12), "rho", format(coef(f$modelStruct$corStruct, unconstrained=FALSE),digits=10), "\n") }
