source("/tmp/probe/load.R"); suppressMessages(library(numDeriv))
fv <- ld("fev"); fv <- fv[!is.na(fv$FEV1),]; X <- model.matrix(~RACE + SEX + ARMCD * AVISIT, fv); y <- fv$FEV1
g <- as.character(fv$USUBJID); vis <- as.integer(fv$AVISIT); subj <- split(seq_along(g), factor(g, levels=unique(g)))
f_inv <- function(t) t/sqrt(1+t^2)
theta2cov <- function(type, th, m=4) {
  if (type=="us") { Ls <- diag(m); k <- m; for (i in 2:m) for (j in 1:(i-1)) { k<-k+1; Ls[i,j] <- th[k] }; L <- diag(exp(th[1:m])) %*% Ls; return(L %*% t(L)) }
  hom <- type %in% c("ar1","cs","toep","ad"); sd <- if (hom) rep(exp(th[1]), m) else exp(th[1:m]); rest <- th[-(1:(if (hom) 1 else m))]
  C <- diag(m)
  for (i in 2:m) for (j in 1:(i-1)) C[i,j] <- C[j,i] <- switch(sub("h$","",type),
     ar1 = f_inv(rest[1])^(i-j), cs = plogis(rest[1])*(1+1/(m-1)) - 1/(m-1), toep = f_inv(rest[i-j]), ad = prod(f_inv(rest[j:(i-1)])))
  diag(sd) %*% C %*% diag(sd) }
negll <- function(th, type, reml=TRUE) { S <- theta2cov(type, th); p <- ncol(X); n <- length(y)
  XtVX <- matrix(0,p,p); XtVy <- rep(0,p); yVy <- 0; ld <- 0
  for (i in subj) { V <- S[vis[i],vis[i],drop=FALSE]; C <- chol(V); Xi <- backsolve(C, X[i,,drop=FALSE], transpose=TRUE); yi <- backsolve(C, y[i], transpose=TRUE)
    XtVX <- XtVX + crossprod(Xi); XtVy <- XtVy + crossprod(Xi, yi); yVy <- yVy + sum(yi^2); ld <- ld + 2*sum(log(diag(C))) }
  b <- solve(XtVX, XtVy); rss <- yVy - sum(XtVy*b)
  if (reml) 0.5*((n-p)*log(2*pi) + ld + as.numeric(determinant(XtVX)$modulus) + rss) else 0.5*(n*log(2*pi) + ld + rss) }
Phi_of <- function(th, type) { S <- theta2cov(type, th); p <- ncol(X); A <- matrix(0,p,p)
  for (i in subj) A <- A + t(X[i,,drop=FALSE]) %*% solve(S[vis[i],vis[i],drop=FALSE], X[i,,drop=FALSE]); solve(A) }
kr <- function(id) {
  r <- ref(id); type <- r$params$cov_type; th <- r$params$theta; k <- length(th); p <- ncol(X)
  H <- hessian(negll, th, type=type, reml=r$reml); W <- solve(H)
  Phi <- Phi_of(th, type)
  # Satterthwaite: gradient of Phi wrt theta (numerical jacobian of vec(Phi))
  J <- jacobian(function(t) as.vector(Phi_of(t, type)), th)   # p*p x k
  df_sat <- sapply(1:p, function(j) { l <- rep(0,p); l[j] <- 1; gr <- sapply(1:k, function(h) matrix(J[,h],p,p)[j,j]); 2*Phi[j,j]^2 / drop(t(gr)%*%W%*%gr) })
  cat(id, " Satterthwaite df max rel diff vs JSON:", format(max(abs(df_sat/unlist(r$df)-1)), digits=3), "\n")
  if (!is.null(r$se_kr)) {
    S <- theta2cov(type, th)
    dS <- jacobian(function(t) as.vector(theta2cov(type, t)), th)      # 16 x k
    d2S <- lapply(1:16, function(e) hessian(function(t) as.vector(theta2cov(type, t))[e], th))
    Pm <- vector("list", k); Qm <- matrix(list(), k, k); Rm <- matrix(list(), k, k)
    for (h in 1:k) Pm[[h]] <- matrix(0,p,p)
    for (h in 1:k) for (j in 1:k) { Qm[[h,j]] <- matrix(0,p,p); Rm[[h,j]] <- matrix(0,p,p) }
    for (i in subj) { v <- vis[i]; Si <- S[v,v,drop=FALSE]; Sinv <- solve(Si); Xi <- X[i,,drop=FALSE]; A <- Sinv %*% Xi
      dSi <- lapply(1:k, function(h) matrix(dS[,h],4,4)[v,v,drop=FALSE])
      for (h in 1:k) Pm[[h]] <- Pm[[h]] - t(A) %*% dSi[[h]] %*% A
      for (h in 1:k) for (j in 1:k) {
        Qm[[h,j]] <- Qm[[h,j]] + t(A) %*% dSi[[h]] %*% Sinv %*% dSi[[j]] %*% A
        d2 <- matrix(sapply(1:16, function(e) d2S[[e]][h,j]),4,4)[v,v,drop=FALSE]
        Rm[[h,j]] <- Rm[[h,j]] + t(A) %*% d2 %*% A } }
    adj <- function(useR) { M <- matrix(0,p,p); for (h in 1:k) for (j in 1:k) M <- M + W[h,j]*(Qm[[h,j]] - Pm[[h]]%*%Phi%*%Pm[[j]] - (if (useR) 0.25*Rm[[h,j]] else 0)); Phi + 2*Phi%*%M%*%Phi }
    seKR <- sqrt(diag(adj(TRUE))); seKRL <- sqrt(diag(adj(FALSE)))
    cat("  KR (with R term) se max rel diff vs se_kr:", format(max(abs(seKR/unlist(r$se_kr)-1)),digits=3),
        "   KR-Linear:", format(max(abs(seKRL/unlist(r$se_kr)-1)),digits=3), "\n")
    print(rbind(json=unlist(r$se_kr), KR=seKR, KRlin=seKRL, asym=sqrt(diag(Phi))))
  }
}
for (id in c("fev_mmrm_us_kr_reml","fev_mmrm_us_reml","fev_mmrm_us_ml","fev_mmrm_ar1_reml","fev_mmrm_ar1h_reml","fev_mmrm_cs_reml","fev_mmrm_csh_reml","fev_mmrm_toep_reml","fev_mmrm_toeph_reml","fev_mmrm_adh_reml")) kr(id)
# expected-information W variant for us_kr
r <- ref("fev_mmrm_us_kr_reml"); type <- "us"; th <- r$params$theta; k <- length(th); p <- ncol(X); N <- length(y)
S <- theta2cov(type, th); dS <- jacobian(function(t) as.vector(theta2cov(type, t)), th)
Om <- matrix(0,N,N); dOm <- lapply(1:k, function(h) matrix(0,N,N))
for (i in subj) { v <- vis[i]; Om[i,i] <- S[v,v]; for (h in 1:k) dOm[[h]][i,i] <- matrix(dS[,h],4,4)[v,v] }
Oi <- solve(Om); Phi <- solve(t(X)%*%Oi%*%X); PR <- Oi - Oi%*%X%*%Phi%*%t(X)%*%Oi
Iexp <- matrix(0,k,k); for (h in 1:k) for (j in 1:k) Iexp[h,j] <- 0.5*sum(diag(PR%*%dOm[[h]]%*%PR%*%dOm[[j]]))
H <- hessian(negll, th, type=type, reml=TRUE)
cat("max rel diff observed vs expected info:", max(abs(H-Iexp))/max(abs(H)), "\n")
Wo <- solve(H); We <- solve(Iexp)
df <- function(W) sapply(1:p, function(j) { gr <- sapply(1:k, function(h) { -(Phi %*% t(X)%*%(-Oi%*%dOm[[h]]%*%Oi)%*%X %*% Phi)[j,j] }); 2*Phi[j,j]^2/drop(t(gr)%*%W%*%gr) })
print(rbind(json=unlist(r$df), observed=df(Wo), expected=df(We)))
