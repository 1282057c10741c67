source("/tmp/probe/load.R")
orthodont <- ld("orthodont")
str(orthodont)
f <- gls(distance ~ Sex * age_c, data = orthodont, correlation = corCompSymm(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | Sex), method = "REML")
print(logLik(f)); print(coef(f$modelStruct$varStruct, unconstrained=FALSE)); print(coef(f$modelStruct$varStruct)); print(f$sigma)
print(coef(f$modelStruct$corStruct, unconstrained=FALSE)); print(coef(f$modelStruct$corStruct))
print(attr(logLik(f),"df"))
# dense REML loglik check
X <- model.matrix(~Sex*age_c, orthodont); y <- orthodont$distance
rho <- coef(f$modelStruct$corStruct, unconstrained=FALSE)
vf <- varWeights(f$modelStruct$varStruct) # 1/sd multiplier, in sorted order
ord <- order(orthodont$Subject)
sdv <- numeric(nrow(orthodont)); sdv[ord] <- 1/vf
V <- matrix(0, nrow(X), nrow(X))
for (s in levels(orthodont$Subject)) { i <- which(orthodont$Subject==s); C <- matrix(rho,length(i),length(i)); diag(C)<-1; V[i,i] <- f$sigma^2 * outer(sdv[i],sdv[i]) * C }
Vi <- solve(V); XtVX <- t(X)%*%Vi%*%X; b <- solve(XtVX, t(X)%*%Vi%*%y); r <- y - X%*%b
n<-nrow(X); p<-ncol(X)
ll_reml <- -0.5*((n-p)*log(2*pi) + determinant(V)$modulus + determinant(XtVX)$modulus + t(r)%*%Vi%*%r)
cat("dense REML (no log|X'X|):", ll_reml, " nlme:", logLik(f), "\n")
cat("with +0.5 log|X'X|:", ll_reml + 0.5*determinant(crossprod(X))$modulus, "\n")
print(ref("orthodont_gls_cs_varident_sex_reml")$loglik)
