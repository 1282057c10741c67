# Dense Kenward-Roger (REML) at a tiny *interior* VarIdent ratio with random effects (lane exact2): ri_ar14
# (y ~ stratum + x + (1|subject), AR1(t, subject) & VarIdent(stratum), stratum B ratio 8.8e-5), at R's dense REML
# optimum of tiny_sat.R (tiny_sat.json's psi). tau = (log sd_b, log sigma, log dB, log dC, log dD, u = rho/sqrt(1-rho^2)),
# mixedfit's KR scale. kr_dense of tests/reference/cov_kr/kr_dense.R (mmrm's formulas) with ABSOLUTE numDeriv steps
# (every derivative at q = 0 of f(tau + q), zero.tol = 1: steps eps = d = 0.1 .. 1e-4; rv10's relative steps were
# unstable). The n x n V (sd_b^2 + 7.8e-9 in B's diagonal) keeps B's variance to ~1e-8 relative; its numerical
# derivatives lose it below a step ~0.01 (steps 1e-3, 1e-4: negative df). Steps 0.1, 0.05, 0.02 agree to
# ~2e-5 in se_kr (the test uses 0.1 and 0.05). Run (in this directory): Rscript kr_ri_ar14.R
suppressMessages({library(jsonlite); library(numDeriv)})
json <- fromJSON("tiny_sat.json")$ri_ar14
d <- read.csv("tiny_ri_ar14.csv", stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
X <- model.matrix(~ stratum + x, d); p <- ncol(X)
sub <- split(seq_len(nrow(d)), d$subject)
st8 <- as.integer(d$stratum[sub[[1]]]); stopifnot(all(d$t[sub[[1]]] == 1:8))
psi <- json$psi  # (log sigma_A, log sd_b, log dB, log dC, log dD, atanh phi): R's dense REML optimum (tiny_sat.R)
tau0 <- c(psi[2], psi[1], psi[3:5], sinh(psi[6]))  # (log sd_b, log sigma, log dB, dC, dD, u = rho / sqrt(1 - rho^2))
S_of <- function(t) { s <- exp(t[2]) * c(1, exp(t[3:5]))[st8]; r <- t[6] / sqrt(1 + t[6]^2)
  exp(2 * t[1]) + outer(s, s) * r^abs(outer(1:8, 1:8, "-")) }
idx <- lapply(sub, function(i) d$t[i]); Xs <- lapply(sub, function(i) X[i, , drop = FALSE]); ys <- lapply(sub, function(i) d$y[i])
# kr_dense of tests/reference/cov_kr/kr_dense.R with absolute steps: every derivative taken at q = 0 of
# f(tau0 + q) (until session 12 a copy of kr_dense here; source()d by a path from this directory)
source("../cov_kr/kr_dense.R")
kr_abs <- function(S_of0, tau, Xs, ys, dd)
  kr_dense(function(q) S_of0(tau + q), idx, numeric(length(tau)), Xs, ys,
           method.args = list(eps = dd, d = dd, zero.tol = 1), return_W = TRUE)
out <- list(tau = tau0, terms = colnames(X), steps = list())
for (dd in c(0.1, 0.05, 0.02, 0.01, 0.001, 1e-4)) {
  r <- kr_abs(S_of, tau0, Xs, ys, dd)
  out$steps[[as.character(dd)]] <- r
  cat("step", dd, "\n se   ", format(r$se, digits = 10), "\n se_kr", format(r$se_kr, digits = 10), "\n df   ", format(r$df, digits = 10), "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "kr_ri_ar14.json")
# rv10's ri_none6 (y ~ stratum + x + (1|subject), VarIdent(stratum), B's ratio 1.1e-6; mixedfit refuses KR there):
# at mixedfit's REML estimates (tau below), to show the dense KR's collapse (V's B diagonal sd_b^2 + 1.2e-12):
# kr_ri_none6.json
d <- read.csv("../cov_exact_stratum/ri_none6.csv", stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
X <- model.matrix(~ stratum + x, d); p <- ncol(X)
sub <- split(seq_len(nrow(d)), d$subject)
st8 <- as.integer(d$stratum[sub[[1]]]); stopifnot(all(d$t[sub[[1]]] == 1:8))
tau0 <- c(-0.02265060346402591, 0.06980926472915608, -13.724566696947036, 0.19835395599622746, -0.5637689716025268)
S_of <- function(t) { s <- exp(t[2]) * c(1, exp(t[3:5]))[st8]; exp(2 * t[1]) + diag(s^2) }
idx <- lapply(sub, function(i) d$t[i]); Xs <- lapply(sub, function(i) X[i, , drop = FALSE]); ys <- lapply(sub, function(i) d$y[i])
out <- list(tau = tau0, terms = colnames(X), steps = list())
for (dd in c(0.1, 0.05, 0.02, 0.01)) {
  r <- kr_abs(S_of, tau0, Xs, ys, dd)
  out$steps[[as.character(dd)]] <- r
  cat("ri_none6 step", dd, "\n se_kr", format(r$se_kr, digits = 10), "\n df   ", format(r$df, digits = 10), "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "kr_ri_none6.json")
