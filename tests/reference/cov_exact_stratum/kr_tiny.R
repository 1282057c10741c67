# Kenward-Roger (mmrm's formulas, the dense implementation of tests/reference/cov_kr/make_kr.R, kr_dense copied
# unchanged) for y ~ stratum * x, VarIdent(stratum), REML, tau = (log sigma_A, log ratio_B), at the dense REML optimum
# (exact_stratum.R's criterion; the optimum is stratum-wise OLS: sigma_g^2 = RSS_g / (n_g - 2)). Data: review rv11's
# hdf2_<noise>.csv. At noise 1e-3 the dense KR is accurate and equals the closed form the test uses
# (Phi_A = Phi_g (n_g - 3) / (n_g - 2) per stratum block, df Welch's); at 1e-7 (ratio 5.8e-8) R's dense solve(X'V^-1 X)
# has lost the digits (as mixedfit's dense path did): recorded to show it. Run (in this directory): Rscript kr_tiny.R
suppressMessages({library(jsonlite); library(numDeriv)})
source("../cov_kr/kr_dense.R")  # kr_dense (path from this directory, where the script is run)
out <- list()
for (nz in c("0.001", "1e-07")) {
  d <- read.csv(sprintf("hdf2_%s.csv", nz)); d$stratum <- factor(d$stratum)
  X <- model.matrix(~ stratum * x, d); B <- d$stratum == "B"
  rss <- sapply(c(FALSE, TRUE), function(g) sum(qr.resid(qr(cbind(1, d$x[B == g])), d$y[B == g])^2))
  s2 <- rss / (c(sum(!B), sum(B)) - 2); tau <- c(0.5 * log(s2[1]), 0.5 * log(s2[2] / s2[1]))
  S_of <- function(t) diag(c(exp(2 * t[1]), exp(2 * t[1] + 2 * t[2])))
  idx <- as.list(ifelse(B, 2L, 1L)); rows <- seq_len(nrow(d))
  res <- tryCatch(kr_dense(S_of, idx, tau, lapply(rows, function(i) X[i, , drop = FALSE]), as.list(d$y)),
                  error = function(e) list(error = conditionMessage(e)))
  out[[nz]] <- c(res, list(terms = colnames(X)))
  cat(nz, "se", res$se, "se_kr", res$se_kr, "df", res$df, res$error, "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "kr_tiny.json")
