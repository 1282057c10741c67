# R reference of tests/test_varident_dense_limit.py: the REML supremum of the model below by a
# dense V-form criterion (V = Z G Z' + R, R = D C D with AR(1) C and VarIdent sds D; B's sd exactly 0
# at the limit, where V stays positive definite). Run: Rscript varident_dense_limit.R
# Dense V-form REML criterion of y ~ stratum + x + (1 + t|subject), AR1(t | subject) & VarIdent(stratum)
args <- commandArgs(TRUE); f <- if (length(args)) args[1] else "varident_dense_limit.csv"
d <- read.csv(f); d$stratum <- factor(d$stratum)
X <- model.matrix(~ stratum + x, d); y <- d$y; n <- nrow(X); p <- ncol(X)
sub <- split(seq_len(n), d$subject)
# every subject has times 1..8 with the same strata: one 8 x 8 V for all (checked)
Y <- matrix(y, 8); stopifnot(all(matrix(d$t, 8) == 1:8), length(unique(d$subject)) == ncol(Y))
tt <- 1:8; Z <- cbind(1, tt); st <- as.character(d$stratum[1:8])
stopifnot(all(matrix(as.character(d$stratum), 8) == st))
crit <- function(par, limitB = FALSE, reml = TRUE) {
  L <- matrix(c(par[1], par[2], 0, par[3]), 2); G <- L %*% t(L)
  rho <- tanh(par[4])
  dl <- c(A = 1, B = if (limitB) 0 else exp(par[7]), C = exp(par[5]), D = exp(par[6]))
  s <- dl[st]; V <- Z %*% G %*% t(Z) + outer(s, s) * rho^abs(outer(tt, tt, "-"))
  R <- tryCatch(chol(V), error = function(e) NULL); if (is.null(R)) return(1e10)
  m <- ncol(Y); ld <- m * 2 * sum(log(diag(R)))
  Xw <- do.call(rbind, lapply(seq_len(m), function(i) backsolve(R, X[(8 * i - 7):(8 * i), , drop = FALSE], transpose = TRUE)))
  yw <- as.vector(backsolve(R, Y, transpose = TRUE))
  qx <- qr(Xw); rss <- sum(qr.resid(qx, yw)^2)
  ldx <- 2 * sum(log(abs(diag(qr.R(qx)))))
  if (reml) m * 0 + ld + ldx + (n - p) * (1 + log(2 * pi * rss / (n - p)))
  else ld + n * (1 + log(2 * pi * rss / n))
}
fit <- function(fn, s) {
  o <- optim(s, fn, method = "BFGS", control = list(maxit = 5000, reltol = 1e-15))
  o <- optim(o$par, fn, method = "Nelder-Mead", control = list(maxit = 4000, reltol = 1e-15))
  optim(o$par, fn, method = "BFGS", control = list(maxit = 5000, reltol = 1e-15))
}
# the B = 0 limit, from two starts (the second: a larger slope sd)
s0 <- c(1.06, 0, 0.002, atanh(0.05), 0.43, -0.37)
lims <- lapply(list(s0, c(1, 0, 0.05, 0.2, 0.3, -0.3)), function(s) fit(function(q) crit(q, TRUE), s))
lim <- lims[[which.min(sapply(lims, `[[`, "value"))]]
# the free model (B's log ratio a parameter) from the limit's optimum with B's ratio small
ints <- lapply(c(-5, -7, -9), function(e) fit(function(q) crit(q, FALSE), c(lim$par, e)))
int <- ints[[which.min(sapply(ints, `[[`, "value"))]]
out <- list(limit_criterion = lim$value, limit_loglik = -lim$value / 2, limit_par = lim$par,
            limit_starts = sapply(lims, `[[`, "value"), free_criterion = int$value,
            free_loglik = -int$value / 2, free_log_ratio_B = int$par[7],
            free_starts = sapply(ints, `[[`, "value"))
print(out, digits = 15)
jsonlite::write_json(out, "varident_dense_limit.json", digits = NA, auto_unbox = TRUE)
