source("/tmp/probe/load.R")
ov <- ld("ovary")
f <- lme(follicles ~ sinT + cosT, data = ov, random = list(Mare = pdDiag(~ sinT)), correlation = corARMA(c(0.7, -0.2), form = ~ obs | Mare, p = 1, q = 1), control = lmeControl(msMaxIter = 500, msMaxEval = 2000))
cs <- f$modelStruct$corStruct
print(coef(cs, unconstrained=FALSE), digits=12); u <- coef(cs, unconstrained=TRUE); print(u, digits=12)
cat("log((1+x)/(1-x)) of constrained:", log((1+coef(cs,FALSE))/(1-coef(cs,FALSE))), "\n")
# p=2 transform check
cs2 <- Initialize(corARMA(c(0.5, 0.3), form=~obs|Mare, p=2, q=0), ov); print(coef(cs2, FALSE)); print(coef(cs2, TRUE))
pac <- c(0.5/(1-0.3), 0.3)  # partial autocorrelations of AR(2) phi=(0.5,0.3): pacf1 = phi1/(1-phi2), pacf2 = phi2
cat("fisher z of PACF:", log((1+pac)/(1-pac)), "\n")
# corSymm unconstrained
o <- ld("orthodont")
f2 <- gls(distance ~ Sex * age_c, data = o, correlation = corSymm(form = ~ occ | Subject), weights = varIdent(form = ~ 1 | agef), method = "REML")
print(coef(f2$modelStruct$corStruct, TRUE)); print(coef(f2$modelStruct$varStruct, TRUE)); print(coef(f2$modelStruct$varStruct, FALSE))
print(f2$apVar[1:2,1:2])
# nesting rule
r1 <- try(lme(distance ~ age_c, data=o, random=~1|Subject, correlation=corCompSymm(form=~1|Sex)))
r2 <- try(lme(distance ~ age_c, data=o, random=~1|Sex, correlation=corAR1(form=~occ|Subject)))
if (!inherits(r2,"try-error")) print(r2$modelStruct$corStruct)
# varIdent reference in lme with unsorted data
o2 <- o[order(-as.integer(o$Subject)),]
f3 <- gls(distance ~ Sex * age_c, data = o2, correlation = corCompSymm(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | Sex))
print(coef(f3$modelStruct$varStruct, FALSE))
f4 <- gls(distance ~ Sex * age_c, data = o2, weights = varIdent(form = ~ 1 | Sex))
print(coef(f4$modelStruct$varStruct, FALSE))
f5 <- gls(distance ~ Sex * age_c, data = o, weights = varIdent(form = ~ 1 | Sex))
print(coef(f5$modelStruct$varStruct, FALSE))
