source("/tmp/probe/load.R"); o <- ld("orthodont")
f <- gls(distance ~ Sex * age_c, data = o, correlation = corCompSymm(form = ~ 1 | Subject))
ll <- logLik(f); print(c(ll=ll, df=attr(ll,"df"), nobs=attr(ll,"nobs"), BIC=BIC(f), manual_Nmp=-2*ll+attr(ll,"df")*log(108-4), manual_N=-2*ll+attr(ll,"df")*log(108)))
ov <- ld("ovary")
cs <- Initialize(corARMA(c(0.3,0.2), form=~obs|Mare, p=0, q=2), ov); print(coef(cs, TRUE))
# candidate: MA(2) theta=(0.3,0.2) -> "pacf" via Durbin-Levinson on polynomial with sign flip
th <- c(0.3,0.2); phi <- -th  # treat 1 + th1 B + th2 B^2 as AR poly 1 - phi1 B - phi2 B^2 with phi=-th
pac2 <- phi[2]; pac1 <- (phi[1])/(1-phi[2]) # reverse Durbin-Levinson for p=2: phi1 = pac1(1 - pac2)
cat("sgn -1 candidate:", log((1+c(pac1,pac2))/(1-c(pac1,pac2))), "\n")
pac2 <- th[2]; pac1 <- th[1]/(1+th[2]); cat("candidate B:", log((1+c(pac1,pac2))/(1-c(pac1,pac2))), "\n")
