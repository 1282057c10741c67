# The REML supremum of y ~ stratum + x + (1 | subject) with residual AR(1) in the stratum's
# position within subject and VarIdent(stratum) on van2.csv (make_van2.py), by dense linear
# algebra (mixedfit issue 12, review rv9 HIGH-3): stratum C has no residual noise, so the
# supremum has C's residual variance 0 (a boundary nlme cannot reach: its ratios are log-scale).
# Parameters: tau2 (random intercept variance), rho (AR(1)), the five strata's residual
# variances, bounded below by 0; L-BFGS-B from three starts, restarted three times each.
# Run from the repository root (about a minute):
#   Rscript tests/reference/cov_probe/dense_van2_ar1.R
suppressMessages(library(jsonlite))
here <- "tests/reference/cov_probe"
d <- read.csv(file.path(here, "van2.csv"), stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D", "E"))
d <- d[order(d$subject, d$stratum), ]  # every subject has one row of each stratum, A to E
X <- model.matrix(~ stratum + x, d); subj <- split(seq_len(nrow(d)), d$subject)
n <- nrow(d); p <- ncol(X); H <- abs(outer(1:5, 1:5, "-"))
gls_parts <- function(par) {
  tau2 <- par[1]; rho <- par[2]; sd <- sqrt(par[3:7])
  L <- tryCatch(chol(tau2 + outer(sd, sd) * rho^H), error = function(e) NULL)
  if (is.null(L)) return(NULL)
  A <- matrix(0, p, p); bb <- numeric(p); ld <- 0
  for (i in subj) {
    Xi <- backsolve(L, X[i, ], transpose = TRUE); yi <- backsolve(L, d$y[i], transpose = TRUE)
    A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2 * sum(log(diag(L)))
  }
  b <- tryCatch(solve(A, bb), error = function(e) NULL)
  if (is.null(b)) return(NULL)
  r2 <- 0
  for (i in subj) r2 <- r2 + sum(backsolve(L, d$y[i] - X[i, ] %*% b, transpose = TRUE)^2)
  list(ld = ld, A = A, b = b, r2 = r2)
}
nll <- function(par) {  # minus the REML log-likelihood
  g <- gls_parts(par)
  if (is.null(g)) return(1e10)
  0.5 * (g$ld + as.numeric(determinant(g$A)$modulus) + g$r2 + (n - p) * log(2 * pi))
}
lower <- c(1e-6, -0.99, 0, 0, 0, 0, 0); upper <- c(100, 0.99, 100, 100, 100, 100, 100)
best <- Inf
for (st in list(c(1.6, 0.1, 0.9, 0.6, 0.01, 3.6, 0.6), c(1, 0.3, 1, 1, 0.1, 1, 1),
                c(2, -0.2, 0.5, 0.5, 0.001, 2, 0.5))) {
  o <- optim(st, nll, method = "L-BFGS-B", lower = lower, upper = upper,
             control = list(factr = 1e1, maxit = 5000))
  for (r in 1:3) o <- optim(o$par, nll, method = "L-BFGS-B", lower = lower, upper = upper,
                            control = list(factr = 1e1, maxit = 5000))
  if (o$value < best) { best <- o$value; bp <- o$par }
}
g <- gls_parts(bp)
sds <- sqrt(bp[3:7]); names(sds) <- levels(d$stratum)
out <- list(
  r = "dense REML of y ~ stratum + x + (1|subject), residual AR(1) in position & VarIdent(stratum)",
  loglik = -best, tau = sqrt(bp[1]), rho = bp[2], sds = as.list(sds),
  beta = as.list(setNames(as.numeric(g$b), colnames(X))),
  engine = paste("R", getRversion(), "optim L-BFGS-B"))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "van2_ar1.json"))
