source("/tmp/probe/load.R")
# dense loglik from JSON params using OUR formulas (not nlme objects)
dense <- function(X, y, Vlist, grp, reml) {
  n <- length(y); p <- ncol(X)
  XtVX <- matrix(0,p,p); XtVy <- rep(0,p); yVy <- 0; ld <- 0
  for (g in names(Vlist)) { i <- which(grp==g); if (!length(i)) next
    V <- Vlist[[g]]; C <- chol(V); Xi <- backsolve(C, X[i,,drop=FALSE], transpose=TRUE); yi <- backsolve(C, y[i], transpose=TRUE)
    XtVX <- XtVX + crossprod(Xi); XtVy <- XtVy + crossprod(Xi, yi); yVy <- yVy + sum(yi^2); ld <- ld + 2*sum(log(diag(C))) }
  b <- solve(XtVX, XtVy); rss <- yVy - sum(XtVy*b)
  ll <- if (reml) -0.5*((n-p)*log(2*pi) + ld + determinant(XtVX)$modulus + rss) else -0.5*(n*log(2*pi) + ld + rss)
  list(ll=as.numeric(ll), beta=drop(b), se=sqrt(diag(solve(XtVX))))
}
report <- function(id, res, Vlist=NULL) {
  r <- ref(id)
  db <- max(abs(res$beta - unlist(r$beta))/unlist(r$se)); dse <- max(abs(res$se/unlist(r$se)-1))
  rc <- ""
  if (!is.null(r$residual_cov) && !is.null(Vlist)) { M <- Rlist[[r$residual_cov$subject]]; rc <- sprintf(" max|Rblock diff|=%.2e", max(abs(M - r$residual_cov$matrix))) }
  cat(sprintf("%-45s ll=%.10f ref=%.10f diff=%.2e  beta/se=%.1e se_rel=%.1e%s\n", id, res$ll, r$loglik, res$ll-r$loglik, db, dse, rc))
}
arcor <- function(t, rho) outer(t, t, function(a,b) rho^abs(a-b))
# ---------- orthodont
o <- ld("orthodont"); X <- model.matrix(~Sex*age_c, o); y <- o$distance; g <- as.character(o$Subject)
mk <- function(fun) { L <- list(); for (s in unique(g)) { i <- which(g==s); L[[s]] <- fun(i) }; L }
# UN
r <- ref("orthodont_gls_un_reml"); P <- r$params; cc <- P$corStruct
Cm <- diag(4); for (a in 2:4) for (b in 1:(a-1)) { Cm[a,b] <- Cm[b,a] <- cc[[sprintf("cor(%d,%d)",a,b)]] }
vi <- unlist(P$varStruct[c("8","10","12","14")])
Rlist <- mk(function(i) { sd <- P$sigma*vi[as.character(o$agef[i])]; outer(sd,sd)*Cm[o$occ[i],o$occ[i]] })
report("orthodont_gls_un_reml", dense(X,y,Rlist,g,TRUE), Rlist)
# CS
r <- ref("orthodont_gls_cs_reml"); P <- r$params
Rlist <- mk(function(i) { m<-length(i); C<-matrix(P$corStruct$Rho,m,m); diag(C)<-1; P$sigma^2*C })
report("orthodont_gls_cs_reml", dense(X,y,Rlist,g,TRUE), Rlist)
# CS + varIdent Sex
r <- ref("orthodont_gls_cs_varident_sex_reml"); P <- r$params
Rlist <- mk(function(i) { m<-length(i); C<-matrix(P$corStruct$Rho,m,m); diag(C)<-1; sd <- P$sigma*unlist(P$varStruct[as.character(o$Sex[i])]); outer(sd,sd)*C })
report("orthodont_gls_cs_varident_sex_reml", dense(X,y,Rlist,g,TRUE), Rlist)
# CSH
r <- ref("orthodont_gls_csh_reml"); P <- r$params
Rlist <- mk(function(i) { m<-length(i); C<-matrix(P$corStruct$Rho,m,m); diag(C)<-1; sd <- P$sigma*unlist(P$varStruct[as.character(o$agef[i])]); outer(sd,sd)*C })
report("orthodont_gls_csh_reml", dense(X,y,Rlist,g,TRUE), Rlist)
# RI + AR1
for (id in c("orthodont_lme_ri_ar1_reml","orthodont_lme_ri_ar1_ml")) { r <- ref(id); P <- r$params
 Rlist <- mk(function(i) P$sigma^2*arcor(o$occ[i], P$corStruct$Phi))
 Vlist <- mk(function(i) P$sigma^2*arcor(o$occ[i], P$corStruct$Phi) + unlist(P$random$Subject$sd)^2)
 report(id, dense(X,y,Vlist,g,r$reml), Rlist) }
# ---------- ovary
ov <- ld("ovary"); X <- model.matrix(~sinT+cosT, ov); y <- ov$follicles; g <- as.character(ov$Mare)
mk <- function(fun) { L <- list(); for (s in unique(g)) { i <- which(g==s); L[[s]] <- fun(i) }; L }
armacor <- function(t, phi, th) { r1 <- (1+phi*th)*(phi+th)/(1+2*phi*th+th^2); outer(t,t,function(a,b){k<-abs(a-b); ifelse(k==0,1,r1*phi^(k-1))}) }
for (id in c("ovary_lme_diag_ar1_reml","ovary_lme_diag_arma11_reml","ovary_lme_diag_car1_reml")) { r <- ref(id); P <- r$params
  sdr <- unlist(P$random$Mare$sd)
  Vlist <- mk(function(i) { Z <- cbind(1, ov$sinT[i]); Cr <- switch(P$corStruct$class,
     corAR1 = arcor(ov$obs[i], P$corStruct$Phi), corCAR1 = arcor(ov$Time[i], P$corStruct$Phi),
     corARMA = armacor(ov$obs[i], P$corStruct$Phi1, P$corStruct$Theta1))
     Z %*% diag(sdr^2) %*% t(Z) + P$sigma^2*Cr })
  report(id, dense(X,y,Vlist,g,TRUE)) }
# ---------- bodyweight
bw <- ld("bodyweight"); X <- model.matrix(~Time*Diet, bw); y <- bw$weight; g <- as.character(bw$Rat)
mk <- function(fun) { L <- list(); for (s in unique(g)) { i <- which(g==s); L[[s]] <- fun(i) }; L }
r <- ref("bodyweight_lme_slope_varpower_car1_reml"); P <- r$params
sdr <- unlist(P$random$Rat$sd); G <- diag(sdr) %*% P$random$Rat$cor %*% diag(sdr)
Rlist <- mk(function(i) { t <- bw$Time[i]; w <- abs(t)^P$varStruct$power; P$sigma^2*outer(w,w)*arcor(t, P$corStruct$Phi) })
Vlist <- mk(function(i) { Z <- cbind(1, bw$Time[i]); Z%*%G%*%t(Z) + Rlist[[g[i[1]]]] })
report(r$id, dense(X,y,Vlist,g,TRUE), Rlist)
# ---------- dialyzer
dz <- ld("dialyzer"); X <- model.matrix(~(pressure + pressure2 + pressure3 + pressure4) * QB, dz); y <- dz$rate; g <- as.character(dz$Subject)
mk <- function(fun) { L <- list(); for (s in unique(g)) { i <- which(g==s); L[[s]] <- fun(i) }; L }
r <- ref("dialyzer_lme_varpower_reml"); P <- r$params
sdr <- unlist(P$random$Subject$sd); G <- diag(sdr) %*% P$random$Subject$cor %*% diag(sdr)
Rlist <- mk(function(i) { w <- abs(dz$pressure[i])^P$varStruct$power; P$sigma^2*diag(w^2, length(i)) })
Vlist <- mk(function(i) { Z <- cbind(1, dz$pressure[i], dz$pressure2[i]); Z%*%G%*%t(Z) + Rlist[[g[i[1]]]] })
report(r$id, dense(X,y,Vlist,g,TRUE), Rlist)
# ---------- fev (mmrm): covariance matrix from JSON and from theta
fv <- ld("fev"); fv <- fv[!is.na(fv$FEV1),]; X <- model.matrix(~RACE + SEX + ARMCD * AVISIT, fv); y <- fv$FEV1; g <- as.character(fv$USUBJID)
mk <- function(fun) { L <- list(); for (s in unique(g)) { i <- which(g==s); L[[s]] <- fun(i) }; L }
f_inv <- function(t) t/sqrt(1+t^2)
theta2cov <- function(type, th, m=4) {
  corr_chol_h <- function(sd, C) diag(sd) %*% C %*% diag(sd)
  if (type=="us") { L <- diag(exp(th[1:m])); k <- m; Ls <- diag(m); for (i in 2:m) for (j in 1:(i-1)) { k<-k+1; Ls[i,j] <- th[k] }; L <- diag(exp(th[1:m])) %*% Ls; return(L %*% t(L)) }
  hom <- type %in% c("ar1","cs","toep","ad"); sd <- if (hom) rep(exp(th[1]), m) else exp(th[1:m]); rest <- th[-(1:(if (hom) 1 else m))]
  C <- diag(m)
  for (i in 2:m) for (j in 1:(i-1)) C[i,j] <- C[j,i] <- switch(sub("h$","",type),
     ar1 = f_inv(rest[1])^(i-j), cs = plogis(rest[1])*(1+1/(m-1)) - 1/(m-1), toep = f_inv(rest[i-j]), ad = prod(f_inv(rest[j:(i-1)])))
  corr_chol_h(sd, C) }
for (id in c("fev_mmrm_us_reml","fev_mmrm_us_ml","fev_mmrm_us_kr_reml","fev_mmrm_ar1_reml","fev_mmrm_ar1h_reml","fev_mmrm_cs_reml","fev_mmrm_csh_reml","fev_mmrm_toep_reml","fev_mmrm_toeph_reml","fev_mmrm_adh_reml")) {
  r <- ref(id); S <- r$params$covariance$matrix; S2 <- theta2cov(r$params$cov_type, r$params$theta)
  vis <- as.integer(fv$AVISIT)
  Rlist <- mk(function(i) S[vis[i], vis[i], drop=FALSE])
  cat(sprintf("   theta->Sigma max diff %.2e\n", max(abs(S-S2))))
  report(id, dense(X,y,Rlist,g,r$reml), Rlist) }
# ---------- sleepstudy glmmTMB
ss <- ld("sleepstudy"); g <- as.character(ss$Subject)
mk <- function(fun) { L <- list(); for (s in unique(g)) { i <- which(g==s); L[[s]] <- fun(i) }; L }
for (id in c("sleepstudy_tmb_ar1_ml","sleepstudy_tmb_ar1_reml")) { r <- ref(id); P <- r$params
  X <- model.matrix(~Daysf, ss); sd <- exp(P$theta[1]); rho <- f_inv(P$theta[2]); s2 <- exp(P$betad)
  Vlist <- mk(function(i) sd^2*arcor(as.integer(ss$Daysf[i]), rho) + s2*diag(length(i)))
  cat(sprintf("   sd=%.10f json=%.10f rho=%.10f json=%.10f sigma=%.10f json=%.10f\n", sd, P$random$Subject$sd[[1]], rho, P$random$Subject$cor[1,2], sqrt(s2), P$sigma))
  report(id, dense(X,y<-ss$Reaction,Vlist,g,r$reml)) }
for (id in c("sleepstudy_tmb_cs_ml","sleepstudy_tmb_us_ml","sleepstudy_tmb_diag_ml")) { r <- ref(id); P <- r$params
  X <- model.matrix(~Days, ss); sd <- exp(P$theta[1:2]); rho <- if (length(P$theta)==2) 0 else if (grepl("cs",id)) 2*plogis(P$theta[3])-1 else f_inv(P$theta[3])
  G <- diag(sd) %*% matrix(c(1,rho,rho,1),2) %*% diag(sd); s2 <- exp(P$betad)
  cat(sprintf("   sd=%s json=%s rho=%.10f json=%.10f\n", paste(format(sd,digits=10),collapse=","), paste(format(unlist(P$random$Subject$sd),digits=10),collapse=","), rho, P$random$Subject$cor[1,2]))
  Vlist <- mk(function(i) { Z <- cbind(1, ss$Days[i]); Z%*%G%*%t(Z) + s2*diag(length(i)) })
  report(id, dense(X,ss$Reaction,Vlist,g,r$reml)) }
