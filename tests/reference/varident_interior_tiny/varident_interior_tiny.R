# R reference of tests/test_varident_interior_tiny.py: the REML optimum of
#   y ~ stratum + x + (1 + t | subject), residual AR1(t | subject) & VarIdent(stratum)
# on varident_interior_tiny.csv (40 subjects) and varident_interior_tiny60.csv (60 subjects):
# t = 1..8, strata A-D cycling, B's true sd ratio 0.005, a random intercept only (numpy
# default_rng(3); the 40- and 60-subject twins of ../varident_dense_limit/, whose optimum is B's
# ratio 0). Here the optima are interior: B's ratio 7.5e-4 (40) and 2.5e-3 (60).
# By a dense V-form criterion: V = Z G Z' + D C D (AR(1) C, VarIdent sds D with A's 1); the B = 0
# limit's optimum and the free model's best from five starts of B's log ratio (the limit's optimum
# with log ratio -3 ... -12), polished by BFGS scaled to each parameter's size. Estimates (beta,
# SE, sigma) at the free optimum by GLS.
# Run: Rscript varident_interior_tiny.R   (from this directory; a few minutes)
run <- function(f, s0, out_file) {
d <- read.csv(f); d$stratum <- factor(d$stratum)
X <- model.matrix(~ stratum + x, d); y <- d$y; n <- nrow(X); p <- ncol(X)
Y <- matrix(y, 8); stopifnot(all(matrix(d$t, 8) == 1:8))
tt <- 1:8; Z <- cbind(1, tt); st <- as.character(d$stratum[1:8])
stopifnot(all(matrix(as.character(d$stratum), 8) == st))  # one 8 x 8 V for all subjects
m <- ncol(Y)
# par: L11, L21, L22 (G = L L', relative to A's variance), atanh(rho), log C, log D, log B
vmat <- function(par, limitB = FALSE) {
  L <- matrix(c(par[1], par[2], 0, par[3]), 2); G <- L %*% t(L)
  rho <- tanh(par[4])
  dl <- c(A = 1, B = if (limitB) 0 else exp(par[7]), C = exp(par[5]), D = exp(par[6]))
  s <- dl[st]; Z %*% G %*% t(Z) + outer(s, s) * rho^abs(outer(tt, tt, "-"))
}
whiten <- function(R) list(
  X = do.call(rbind, lapply(seq_len(m), function(i) backsolve(R, X[(8 * i - 7):(8 * i), , drop = FALSE], transpose = TRUE))),
  y = as.vector(backsolve(R, Y, transpose = TRUE)))
crit <- function(par, limitB = FALSE) {
  R <- tryCatch(chol(vmat(par, limitB)), error = function(e) NULL); if (is.null(R)) return(1e10)
  w <- whiten(R); qx <- qr(w$X); rss <- sum(qr.resid(qx, w$y)^2)
  m * 2 * sum(log(diag(R))) + 2 * sum(log(abs(diag(qr.R(qx))))) +
    (n - p) * (1 + log(2 * pi * rss / (n - p)))
}
est <- function(par) {
  w <- whiten(chol(vmat(par))); qx <- qr(w$X); stopifnot(all(qx$pivot == seq_len(p)))
  b <- qr.coef(qx, w$y); s2 <- sum(qr.resid(qx, w$y)^2) / (n - p)
  Ri <- backsolve(qr.R(qx), diag(p))
  list(beta = setNames(as.vector(b), colnames(X)),
       se = setNames(sqrt(s2 * rowSums(Ri^2)), colnames(X)), sigma = sqrt(s2))
}
fit <- function(fn, s) {
  o <- optim(s, fn, method = "BFGS", control = list(maxit = 5000, reltol = 1e-15))
  o <- optim(o$par, fn, method = "Nelder-Mead", control = list(maxit = 20000, reltol = 1e-15))
  optim(o$par, fn, method = "BFGS", control = list(maxit = 5000, reltol = 1e-15))
}
lim <- fit(function(q) crit(q, TRUE), s0)
ints <- lapply(c(-3, -5, -7, -9, -12), function(e) fit(crit, c(lim$par, e)))
vals <- sapply(ints, `[[`, "value")
int <- ints[[which.min(vals)]]
for (k in 1:3) int <- optim(int$par, crit, method = "BFGS",
                            control = list(maxit = 5000, reltol = 1e-16, parscale = pmax(abs(int$par), 1e-6)))
e <- est(int$par)
out <- list(limit_criterion = lim$value, limit_loglik = -lim$value / 2, limit_par = lim$par,
            criterion = int$value, loglik = -int$value / 2, par = int$par, starts = vals,
            ratio_B = exp(int$par[7]), ratio_C = exp(int$par[5]), ratio_D = exp(int$par[6]),
            rho = tanh(int$par[4]), slope_sd = abs(int$par[3]) * e$sigma,
            beta = as.list(e$beta), se = as.list(e$se), sigma = e$sigma)
print(out, digits = 15)
jsonlite::write_json(out, out_file, digits = NA, auto_unbox = TRUE)
}
run("varident_interior_tiny.csv", c(1.156, 0, -0.0018, 0.149, 0.363, -0.357), "varident_interior_tiny.json")
run("varident_interior_tiny60.csv", c(0.840, 0.0004, 0.0016, 0.014, 0.434, -0.245), "varident_interior_tiny60.json")
