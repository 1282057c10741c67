# Review rv12b HIGH-6: dense REML of y ~ stratum * x + (1|Subject), VarIdent(stratum) on
# exactz_nB4.csv (20 subjects with 3 A rows; stratum B: 4 rows, one per subject, exactly on
# y = 1 + 0.8 x) along theta = delta / 2 -> 0: it rises by 2 (n_B - rank X_B) log 10 per decade
# without bound (until rounding); mixedfit's old answer (theta 0.844, delta 0.491) is a local
# maximum. Run from this directory: Rscript exactz.R > exactz.json
suppressMessages(library(jsonlite))
d <- read.csv("exactz_nB4.csv")
X <- model.matrix(~ stratum * x, d); Z <- model.matrix(~ 0 + factor(Subject), d); y <- d$y; n <- nrow(d); p <- ncol(X)
reml <- function(theta, delta) {
  w <- ifelse(d$stratum == "B", delta, 1); V <- theta^2 * tcrossprod(Z) + diag(w^2)
  C <- chol(V); Xw <- backsolve(C, X, transpose = TRUE); yw <- backsolve(C, y, transpose = TRUE)
  q <- qr(Xw); r <- qr.resid(q, yw); r2 <- sum(r^2)
  -0.5 * ((n - p) * (1 + log(2 * pi * r2 / (n - p))) + 2 * sum(log(diag(C))) + 2 * sum(log(abs(diag(qr.R(q))))))
}
deltas <- 10^-(1:7)
cat(toJSON(list(local = reml(0.694879 / 0.823243, 0.491293), delta = deltas,
                loglik = sapply(deltas, function(dl) reml(dl / 2, dl))), digits = NA, pretty = TRUE), "\n")
