# profile of the REML criterion in phi for d_d11 (ARH term + AR1 residual), max over (s, rho) from several starts
args <- c("d_d11.csv", "arh", "REML")
src <- readLines("dense12b.R"); cut <- grep("^set.seed", src)
commandArgs <- function(...) args
eval(parse(text = src[2:(cut - 1)]))
set.seed(9)
for (ph in c(0.43, 0.9, 0.99, 0.999, 1)) {
  best <- Inf
  for (st in list(c(rep(0, 5), atanh(0.4)), c(rep(-1, 5), atanh(0.9)), c(rep(1, 5), atanh(0.4)), c(rep(0, 5), atanh(-0.5))))
    best <- min(best, nlminb(st, function(p) crit(p, ph), control = list(rel.tol = 1e-13, iter.max = 2000))$objective)
  cat("phi", ph, "max REML loglik", format(-best / 2, digits = 10), "\n")
}
