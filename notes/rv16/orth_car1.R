suppressMessages(library(nlme))
for (m in c("REML","ML")) {
 f <- try(lme(distance ~ age*Sex, random=~age|Subject, data=Orthodont, correlation=corCAR1(form=~age|Subject), weights=varPower(form=~age), method=m, control=lmeControl(msMaxIter=500, opt="optim")))
 if (!inherits(f,"try-error")) cat(m, "logLik", format(as.numeric(logLik(f)), digits=12), "Phi", coef(f$modelStruct$corStruct, unconstrained=FALSE), "power", coef(f$modelStruct$varStruct, unconstrained=FALSE), "\n")
}
