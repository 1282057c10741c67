suppressMessages({library(nlme); library(jsonlite); library(glmmTMB)})
d0 <- "/tmp/p9/rv9/data/"; out <- list()
dense <- function(d, form, reml) {
  d$stratum <- factor(d$stratum); d <- d[order(d$subject, d$stratum),]
  X <- model.matrix(form, d); subj <- split(seq_len(nrow(d)), d$subject); G <- nlevels(d$stratum)
  ll <- function(par) { tau2 <- par[1]; v <- par[-1]; p <- ncol(X); n <- nrow(d)
    A <- matrix(0,p,p); bb <- numeric(p); ld <- 0; Ls <- list()
    for (k in seq_along(subj)) { i <- subj[[k]]; g <- as.integer(d$stratum[i])
      L <- tryCatch(chol(matrix(tau2,length(i),length(i)) + diag(v[g], length(i))), error=function(e) NULL); if (is.null(L)) return(-1e10)
      Ls[[k]] <- L; Xi <- backsolve(L, X[i,,drop=FALSE], transpose=TRUE); yi <- backsolve(L, d$y[i], transpose=TRUE)
      A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2*sum(log(diag(L))) }
    beta <- tryCatch(solve(A, bb), error=function(e) NULL); if (is.null(beta)) return(-1e10); q <- 0
    for (k in seq_along(subj)) { i <- subj[[k]]; r <- backsolve(Ls[[k]], d$y[i] - X[i,,drop=FALSE] %*% beta, transpose=TRUE); q <- q + sum(r^2) }
    if (reml) -0.5*(ld + as.numeric(determinant(A)$modulus) + q + (n-p)*log(2*pi)) else -0.5*(ld + q + n*log(2*pi)) }
  best <- NULL
  for (st in list(c(1,rep(1,G)), c(2,rep(0.5,G)), c(0.5,rep(2,G)))) {
    o <- optim(st, function(p) -ll(p), method="L-BFGS-B", lower=c(1e-8, rep(0,G)), upper=rep(1e4,G+1), control=list(factr=1e2, maxit=5000))
    for (r in 1:3) o <- optim(o$par, function(p) -ll(p), method="L-BFGS-B", lower=c(1e-8, rep(0,G)), upper=rep(1e4,G+1), control=list(factr=1e1, maxit=5000))
    if (is.null(best) || o$value < best$value) best <- o }
  list(loglik=-best$value, par=best$par, sds=sqrt(best$par[-1]))
}
v2 <- read.csv(paste0(d0,"van2.csv"), stringsAsFactors=FALSE)
out$van2_reml <- dense(v2, ~stratum + x, TRUE); out$van2_ml <- dense(v2, ~stratum + x, FALSE)
f <- tryCatch(lme(y ~ stratum + x, random=~1|subject, data=v2, weights=varIdent(form=~1|stratum)), error=function(e) NULL)
if (!is.null(f)) out$van2_lme <- list(loglik=as.numeric(logLik(f)))
for (nm in c("small5e5","small3e4_1")) {
  s <- read.csv(paste0(d0,nm,".csv"), stringsAsFactors=FALSE)
  for (m in c("REML","ML")) {
    f <- lme(y ~ stratum + x, random=~1|subject, data=s, weights=varIdent(form=~1|stratum), method=m, control=lmeControl(maxIter=500,msMaxIter=500))
    dn <- dense(s, ~stratum + x, m=="REML")
    out[[paste0(nm,"_",m)]] <- list(loglik=as.numeric(logLik(f)), sigma=f$sigma, varw=coef(f$modelStruct$varStruct, unconstrained=FALSE, allCoef=TRUE), beta=unname(fixef(f)), se=unname(sqrt(diag(vcov(f)))), dense=dn$loglik, dense_sds=dn$sds)
  }
}
a <- read.csv(paste0(d0,"ar1hi.csv"), stringsAsFactors=FALSE)
f <- lme(y ~ t, random=~1|subject, data=a, correlation=corAR1(form=~t|subject))
out$ar1hi_lme <- list(loglik=as.numeric(logLik(f)), phi=coef(f$modelStruct$corStruct, unconstrained=FALSE), beta=unname(fixef(f)), se=unname(sqrt(diag(vcov(f)))), sigma=f$sigma)
a$tf <- factor(a$tf, levels=paste0("t",1:8))
g <- glmmTMB(y ~ t + (1|subject) + ar1(0 + tf|subject), data=a, REML=TRUE)
out$ar1hi_tmb <- list(loglik=as.numeric(logLik(g)), beta=unname(fixef(g)$cond), sigma=sigma(g), conv=g$fit$convergence)
cr <- read.csv(paste0(d0,"crossed.csv"), stringsAsFactors=FALSE); cr$tf <- factor(cr$tf, levels=paste0("t",1:6))
g <- glmmTMB(y ~ 1 + (1|item) + ar1(0 + tf|subject), data=cr, REML=TRUE)
out$crossed_tmb <- list(loglik=as.numeric(logLik(g)), beta=unname(fixef(g)$cond), sigma=sigma(g))
# nested limit model: gls corAR1 with the variance of ar1 (sigma->0 limit) = gls with AR1 on tf
cr$ti <- as.integer(cr$tf)
h <- gls(y ~ 1, data=cr, correlation=corAR1(form=~ti|subject))
out$crossed_gls <- list(loglik=as.numeric(logLik(h)), beta=unname(coef(h)), se=unname(sqrt(diag(vcov(h)))))
write(toJSON(out, auto_unbox=TRUE, digits=NA), "/tmp/p9/rv9/sims_R.json")
