# R's dense Kenward-Roger (kr_dense of tests/reference/cov_kr/make_kr.R, unchanged) for
# y ~ stratum + x + (1|subject), VarIdent(stratum), REML, at B ratios 2.5e-4, 2.5e-5 and 1.2e-5
# (review rv12b HIGH-5; data krre2_<noise>.csv from its kr_re2_data.py / kr_re3_data.py:
# 30 subjects, 2 A rows (sd 1) and 2 B rows (noise 3e-4 / 3e-5 / 1.5e-5) each, a random intercept sd 1).
# The dense REML is maximised here (nlminb, several starts). Run from this directory:
#   Rscript kr_re_tiny.R > kr_re_tiny.json
suppressMessages({library(jsonlite); library(numDeriv)})
source("../cov_kr/kr_dense.R")  # kr_dense (path from this directory, where the script is run)
out <- list()
for (nz in c("3e-4", "3e-5", "1.5e-5")) {
  d <- read.csv(sprintf("krre2_%s.csv", nz)); d$stratum <- factor(d$stratum)
  X <- model.matrix(~ stratum + x, d); sub <- split(seq_len(nrow(d)), d$subject); N <- nrow(d); p <- ncol(X)
  S_of <- function(t) exp(2 * t[2]) + diag(c(exp(2 * t[1]), exp(2 * t[1]), exp(2 * t[1] + 2 * t[3]), exp(2 * t[1] + 2 * t[3])))
  negll <- function(t) { S <- S_of(t); C <- tryCatch(chol(S), error = function(e) NULL); if (is.null(C)) return(1e10)
    A <- matrix(0, p, p); bb <- rep(0, p); yy <- 0
    for (i in sub) { Xi <- backsolve(C, X[i, ], transpose = TRUE); yi <- backsolve(C, d$y[i], transpose = TRUE)
      A <- A + crossprod(Xi); bb <- bb + crossprod(Xi, yi); yy <- yy + sum(yi^2) }
    beta <- solve(A, bb); 0.5 * ((N - p) * log(2 * pi) + length(sub) * 2 * sum(log(diag(C))) + as.numeric(determinant(A)$modulus) + yy - sum(bb * beta)) }
  best <- list(objective = Inf)
  for (t3 in c(0, -4, -8, -12)) { o <- nlminb(c(0, 0, t3), negll, control = list(rel.tol = 1e-14, iter.max = 2000)); if (o$objective < best$objective) best <- o }
  tau <- best$par
  res <- kr_dense(S_of, lapply(sub, function(i) 1:4), tau, lapply(sub, function(i) X[i, , drop = FALSE]), lapply(sub, function(i) d$y[i]))
  out[[nz]] <- list(ll = -best$objective, ratio = exp(tau[3]), se = res$se, se_kr = res$se_kr, df = res$df)
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "\n")
