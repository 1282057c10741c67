# c29: the supremum with stratum b's residual ratio held at 1e-10 (its boundary 0), and a free fit from there.
a0 <- c("../cov_rar1_stress/specs_c29.json", "c29", "../cov_rar1_stress")  # the one copy of c29
# the one copy of the dense criterion, cut before its multistart:
src <- readLines("../cov_rar1_stress/dense_stress3.R"); cut <- grep("^set.seed\\(11\\)", src)
commandArgs <- function(...) a0
eval(parse(text = src[1:(cut - 1)]))
f0 <- function(par) wrap(devb(par[1:ng], tanh(par[ng + 1]), 1, 1e-10))
best <- list(value = Inf)
for (s in c(-1.5, 0, 1)) for (r in c(-0.5, 0.2, 0.9)) for (ph in c(-0.5, 0.1, 0.6)) {
  o <- one(f0, c(s, atanh(r), atanh(ph))); if (!is.null(o) && o$value < best$value) best <- o
}
cat(sprintf("b ratio 1e-10: loglik %.8f  s %.6g rho %.6g phi %.6g\n", -best$value / 2, exp(best$par[1]), tanh(best$par[2]), tanh(best$par[3])))
for (lr in c(-4, -8, -12)) {
  o <- one(fint, c(best$par[1:2], lr, best$par[3]))
  cat(sprintf("free from log ratio %d: loglik %.8f ratio %.4g phi %.6g\n", lr, -o$value / 2, exp(o$par[3]), tanh(o$par[4])))
}
