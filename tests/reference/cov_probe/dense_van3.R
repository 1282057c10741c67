# The REML supremum of y ~ stratum + x + (1 + x | subject) with VarIdent(stratum) on van3.csv
# (mixedfit issue 12, review rv9 MEDIUM-5; notes/rv9/van3.py wrote it: 40 subjects x strata A-D
# x 2 rows, stratum C has no residual noise: y_C = 7 + b0 + (0.5 + b1) x exactly, so the
# supremum has C's residual variance 0, carried by the random intercept and slope), by dense
# linear algebra: V_i = Z_i G Z_i' + diag(v), G = Lg Lg' (Lg lower triangular), variances v
# bounded below by 0; L-BFGS-B from three starts, restarted three times each, then the best
# point polished with C's variance exactly 0.
# Run from the repository root (about two minutes):
#   Rscript tests/reference/cov_probe/dense_van3.R
suppressMessages(library(jsonlite))
here <- "tests/reference/cov_probe"
d <- read.csv(file.path(here, "van3.csv"), stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
d <- d[order(d$subject, d$stratum), ]
X <- model.matrix(~ stratum + x, d); subj <- split(seq_len(nrow(d)), d$subject)
n <- nrow(d); p <- ncol(X)
gls_parts <- function(par) {
  Lg <- matrix(c(par[1], par[2], 0, par[3]), 2); G <- Lg %*% t(Lg); v <- par[4:7]
  A <- matrix(0, p, p); bb <- numeric(p); ld <- 0; Ls <- list(); k <- 0
  for (i in subj) {
    k <- k + 1; Z <- cbind(1, d$x[i])
    L <- tryCatch(chol(Z %*% G %*% t(Z) + diag(v[as.integer(d$stratum[i])])),
                  error = function(e) NULL)
    if (is.null(L)) return(NULL)
    Ls[[k]] <- L
    Xi <- backsolve(L, X[i, ], transpose = TRUE); yi <- backsolve(L, d$y[i], transpose = TRUE)
    A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); ld <- ld + 2 * sum(log(diag(L)))
  }
  b <- tryCatch(solve(A, bb), error = function(e) NULL)
  if (is.null(b)) return(NULL)
  r2 <- 0; k <- 0
  for (i in subj) {
    k <- k + 1
    r2 <- r2 + sum(backsolve(Ls[[k]], d$y[i] - X[i, ] %*% b, transpose = TRUE)^2)
  }
  list(ld = ld, A = A, b = b, r2 = r2)
}
nll <- function(par) {  # minus the REML log-likelihood
  g <- gls_parts(par)
  if (is.null(g)) return(1e10)
  0.5 * (g$ld + as.numeric(determinant(g$A)$modulus) + g$r2 + (n - p) * log(2 * pi))
}
best <- Inf
lo <- c(1e-6, -10, 1e-6, 0, 0, 0, 0)
for (st in list(c(1.5, 0, 0.5, 1, 0.5, 0.01, 3.3), c(1, 0.1, 0.3, 0.8, 0.8, 0.001, 4),
                c(2, -0.2, 0.6, 1.2, 0.3, 0, 2.5))) {
  o <- optim(st, nll, method = "L-BFGS-B", lower = lo, control = list(factr = 1e1, maxit = 5000))
  for (r in 1:3) o <- optim(o$par, nll, method = "L-BFGS-B", lower = lo,
                            control = list(factr = 1e1, maxit = 5000))
  if (o$value < best) { best <- o$value; bp <- o$par }
}
at0 <- function(q) nll(c(q[1:5], 0, q[6]))  # C's variance exactly 0
o3 <- optim(c(bp[1:5], bp[7]), at0, method = "L-BFGS-B", lower = c(1e-6, -10, 1e-6, 0, 0, 0),
            control = list(factr = 1e1, maxit = 5000))
if (o3$value < best) { best <- o3$value; bp <- c(o3$par[1:5], 0, o3$par[6]) }
g <- gls_parts(bp)
sds <- sqrt(bp[4:7]); names(sds) <- levels(d$stratum)
out <- list(
  r = "dense REML of y ~ stratum + x + (1 + x|subject), residual VarIdent(stratum)",
  loglik = -best, sds = as.list(sds),
  beta = as.list(setNames(as.numeric(g$b), colnames(X))),
  engine = paste("R", getRversion(), "optim L-BFGS-B"))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "van3.json"))
