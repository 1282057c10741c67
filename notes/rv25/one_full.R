suppressMessages(library(nlme)); d <- read.csv('/tmp/p16/rv25/one_full.csv')
for (m in c("ML","REML")) { f <- try(gls(y ~ x, d, correlation=corCompSymm(form=~1|g), method=m))
 if (!inherits(f,"try-error")) cat(m, "logLik", format(as.numeric(logLik(f)),digits=12), "rho", format(coef(f$modelStruct$corStruct, unconstrained=FALSE),digits=12), "\n") }
