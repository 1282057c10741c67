# rv26: CS (M = 4) dense criterion in CS's eigenbasis for subjects of any size m <= M, parametrized by
# t = (1 + (M-1) rho)/(1 - rho) (no cancellation): mean row of a subject of m rows has variance ratio
# r_m = (m t + M - m)/M to the contrasts (sigma^2 profiled; constants as cs_exact.R's dense).
suppressMessages(library(jsonlite))
dense_u <- function(d, t, reml, M = 4) {
  X <- model.matrix(~ x, d); y <- d$y; N <- length(y); p <- ncol(X)
  idx <- split(seq_len(N), d$g); rows <- list(); ldc <- 0
  for (i in idx) {
    m <- length(i); H <- if (m > 1) cbind(1 / sqrt(m), contr.helmert(m) %*% diag(1 / sqrt((1:(m - 1)) * (2:m)), m - 1)) else matrix(1, 1, 1)
    A <- t(H) %*% cbind(X, y)[i, , drop = FALSE]; r <- ((M - m) + m * t) / M
    A[1, ] <- A[1, ] / sqrt(r); ldc <- ldc + log(r); rows[[length(rows) + 1]] <- A
  }
  A <- do.call(rbind, rows)
  q <- qr(A[, 1:p]); rss <- sum(qr.resid(q, A[, p + 1])^2); ldx <- 2 * sum(log(abs(diag(qr.R(q)))))
  if (reml) (N - p) * (1 + log(2 * pi * rss / (N - p))) + ldc + ldx else N * (1 + log(2 * pi * rss / N)) + ldc
}
out <- list()
for (f in commandArgs(TRUE)) {
  d <- read.csv(f); d$g <- factor(d$g)
  for (meth in c("REML", "ML")) {
    o <- optimize(function(u) dense_u(d, exp(u), meth == "REML"), c(-80, 5), tol = 1e-12)
    # check vs nlme at an interior fixed rho (t = 0.5)
    library(nlme); rho <- (0.5 - 1) / (0.5 + 3)
    g5 <- gls(y ~ x, d, correlation = corCompSymm(rho, form = ~ 1 | g, fixed = TRUE), method = meth)
    out[[f]][[meth]] <- list(optimum_t = exp(o$minimum), optimum_loglik = -o$objective / 2,
                             check = c(nlme = as.numeric(logLik(g5)), dense = -dense_u(d, 0.5, meth == "REML") / 2))
  }
}
cat(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "\n")
