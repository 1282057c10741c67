# Rscript pointcheck.R specsfile name v1 v2 ...  : -l of the dense criterion at the natural-scale point
# (sds..., correlations (ar1 rho / cs rho / toep pacf)..., [ratio], phi); prints loglik
a0 <- commandArgs(TRUE)
src <- readLines("/tmp/p12/stress/dense_stress3.R"); cut <- grep("^set.seed\\(11\\)", src)
pt <- as.numeric(a0[-(1:2)]); commandArgs <- function(...) a0[1:2]
eval(parse(text = src[1:(cut - 1)]))
q <- c(log(pt[1:nsd]), if (ncor) switch(term, cs = { lo <- -1 / (K - 1); qlogis((pt[nsd + 1:ncor] - lo) / (1 - lo)) }, atanh(pt[nsd + 1:ncor])) else NULL)
ratio <- if (vi) pt[ng + 1] else 1
phi <- pt[nq + 1]
cat(sprintf("%.10f\n", -devb(q, phi, 1, ratio) / 2))
