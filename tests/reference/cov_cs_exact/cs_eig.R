# Lane cseig (issue 12): references for CS whitened from its eigenvalues near the limit rho -> -1/3.
# 1. cs_near0_1e-10 (between-subject sd 1e-10), whose search in cs_exact.R stopped at its end t = exp(-40) = 4.2e-18:
#    the same dense criterion (cs_exact.R's `dense`, taken from that script unevaluated), searched over log t in
#    (-80, 5); cs_near0_1e-07 as a check against cs_exact.json.
# 2. cs_near0_1e-07 with by = grp (subjects s0, s2, ... in group A, the others B): mixedfit's CompoundSymmetry(by=)
#    has a CS parameter per group and a variance ratio of group B (SAS GROUP=). The dense criterion generalized to
#    per-row multipliers s (divided first) and a t per group; REML, optimized by BFGS then Nelder-Mead.
# 3. The same with CSH (CS & VarIdent over t, equal variances in the data): a local optimum from ratios 1
#    (recorded, not asserted: mixedfit's optimizer does not reach it, see notes).
# Run (in this directory): Rscript cs_eig.R
suppressMessages(library(jsonlite))
exprs <- parse("cs_exact.R")
for (e in exprs) if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name("dense"))) eval(e)
out <- list()
for (f in c("cs_near0_1e-07", "cs_near0_1e-10")) {
  d <- read.csv(paste0(f, ".csv")); d$g <- factor(d$g)
  for (meth in c("REML", "ML")) {
    o <- optimize(function(u) dense(d, exp(u), meth == "REML"), c(-80, 5), tol = 1e-12)
    out[[f]][[meth]] <- list(optimum_t = exp(o$minimum), optimum_loglik = -o$objective / 2)
    cat(f, meth, "t", exp(o$minimum), "loglik", format(-o$objective / 2, digits = 15), "\n")
  }
}
dense_gen <- function(d, tg, s, reml) {  # rows / s, then the eigenbasis; mean rows of group j / sqrt(t_j)
  m <- 4; K <- nrow(d) / m
  H <- cbind(1 / sqrt(m), contr.helmert(m) %*% diag(1 / sqrt((1:(m - 1)) * (2:m))))
  X <- model.matrix(~ x, d) / s; y <- d$y / s; N <- length(y); p <- ncol(X)
  idx <- split(seq_len(N), d$g)
  A <- do.call(rbind, lapply(idx, function(i) t(H) %*% cbind(X, y)[i, , drop = FALSE]))
  tsub <- tg[as.integer(factor(d$grp[sapply(idx, `[`, 1)], levels = c("A", "B")))]
  mean_row <- rep(c(TRUE, rep(FALSE, m - 1)), K)
  A[mean_row, ] <- A[mean_row, ] / sqrt(tsub)
  q <- qr(A[, 1:p]); rss <- sum(qr.resid(q, A[, p + 1])^2); ldx <- 2 * sum(log(abs(diag(qr.R(q)))))
  ldc <- sum(log(tsub)) + 2 * sum(log(s))
  if (reml) (N - p) * (1 + log(2 * pi * rss / (N - p))) + ldc + ldx
  else N * (1 + log(2 * pi * rss / N)) + ldc
}
d <- read.csv("cs_near0_1e-07.csv"); d$g <- factor(d$g)
d$grp <- ifelse(as.integer(sub("s", "", as.character(d$g))) %% 2 == 0, "A", "B")
stopifnot(abs(dense(d, 1e-13, TRUE) - dense_gen(d, c(1e-13, 1e-13), rep(1, nrow(d)), TRUE)) < 1e-9)
fit <- function(f, start) {
  o <- optim(start, f, method = "BFGS", control = list(reltol = 1e-14, maxit = 2000))
  optim(o$par, f, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 20000))
}
o <- fit(function(v) dense_gen(d, exp(v[1:2]), ifelse(d$grp == "A", 1, exp(v[3])), TRUE), c(-31, -31, 0))
out$by_1e_07 <- list(t = exp(o$par[1:2]), ratio_B = exp(o$par[3]), loglik = -o$value / 2, convergence = o$convergence)
cat("by", format(exp(o$par), digits = 15), format(-o$value / 2, digits = 15), "\n")
tl <- as.integer(factor(d$t))
o <- fit(function(v) dense_gen(d, rep(exp(v[1]), 2), c(1, exp(v[2:4]))[tl], TRUE), c(-31, 0, 0, 0))
out$csh_1e_07 <- list(t = exp(o$par[1]), ratios = exp(o$par[2:4]), loglik = -o$value / 2, convergence = o$convergence)
cat("csh", format(exp(o$par), digits = 15), format(-o$value / 2, digits = 15), "\n")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "cs_eig.json")
