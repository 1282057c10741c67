suppressMessages(library(nlme))
a <- read.csv("/tmp/p9/rv9/data/ar1hi.csv", stringsAsFactors=FALSE)
f <- lme(y ~ t, random=~1|subject, data=a, correlation=corAR1(form=~t|subject))
l0 <- as.numeric(logLik(f)); cat("max", l0, "\n")
for (s in c(0.446182, 0.6, 0.8, 0.995104, 1.1, 1.341674, 1.45, 1.575006)) {
  g <- tryCatch(lme(y ~ t, random=~1|subject, data=a, correlation=corAR1(form=~t|subject), control=lmeControl(sigma=s, opt="optim")), error=function(e) NULL)
  if (is.null(g)) { cat(s, "fail\n"); next }
  cat(sprintf("s=%.6f  2*(l0-l)=%.4f  tau=%.4f phi=%.4f\n", s, 2*(l0-as.numeric(logLik(g))), as.numeric(VarCorr(g)[1,2]), coef(g$modelStruct$corStruct, unconstrained=FALSE)))
}
