# Dense Satterthwaite df (REML) at a tiny *interior* VarIdent ratio (review rv10 HIGH-4): ri_ar14
# (y ~ stratum + x + (1|subject), AR1(t, subject) & VarIdent(stratum), stratum B ratio 8.8e-5).
# psi = (log sigma_A, log tau, log dB, log dC, log dD, atanh phi); the unprofiled REML deviance and Var(beta) from
# Householder QR of the per-subject whitened [X y]; numDeriv Hessian / Jacobian with ABSOLUTE steps 0.1, 0.05, 0.02
# (rv10's relative steps d = 0.1 / 0.02 disagreed by ~1 %: psi near 0 got steps ~1e-4, within the noise);
# df = 2 Var^2 / (g' (2 H^-1) g), stored at step 0.1. Run (in this directory): Rscript tiny_sat.R
suppressMessages({library(jsonlite); library(numDeriv)})
out <- list()
for (nm in c("ri_ar14")) {
  ar <- nm == "ri_ar14"
  d <- read.csv(sprintf("tiny_%s.csv", nm), stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
  d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
  X <- model.matrix(~ stratum + x, d); y <- d$y; n <- length(y); p <- ncol(X); blocks <- split(seq_len(n), d$subject)
  whiten <- function(psi) {
    sg <- exp(psi[1]); tau <- exp(psi[2]); dl <- c(1, exp(psi[3:5])); phi <- if (ar) tanh(psi[6]) else 0
    W <- matrix(0, n, p + 1); ld <- 0; i <- 0
    for (g in blocks) { s <- sg * dl[as.integer(d$stratum[g])]; tt <- d$t[g]
      V <- tau^2 + outer(s, s) * phi^abs(outer(tt, tt, "-"))
      U <- tryCatch(chol(V), error = function(e) NULL); if (is.null(U)) return(NULL); W[i + seq_along(g), ] <- backsolve(U, cbind(X[g, , drop = FALSE], y[g]), transpose = TRUE)
      ld <- ld + 2 * sum(log(diag(U))); i <- i + length(g) }
    list(R = qr.R(qr(W)), ld = ld) }
  dev <- function(psi) { w <- whiten(psi); if (is.null(w)) return(1e10); dg <- diag(w$R)
    w$ld + 2 * sum(log(abs(dg[1:p]))) + dg[p + 1]^2 + (n - p) * log(2 * pi) }
  vcov <- function(psi) chol2inv(whiten(psi)$R[1:p, 1:p])
  st <- c(0, 0, log(1e-4), log(1.5), log(0.7), if (ar) atanh(0.4))
  opt <- nlminb(st, dev, control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000, iter.max = 5000))
  o2 <- optim(opt$par, dev, method = "BFGS", control = list(reltol = 1e-16, maxit = 2000))
  psi <- if (o2$value < opt$objective) o2$par else opt$par
  V0 <- vcov(psi)
  dfs <- list()
  z <- numeric(length(psi))
  for (dd in c(0.1, 0.05, 0.02)) {
    H <- hessian(function(q) dev(psi + q), z, method.args = list(eps = dd, d = dd, zero.tol = 1))
    J <- jacobian(function(q) as.vector(vcov(psi + q)), z, method.args = list(eps = dd, d = dd, zero.tol = 1))
    A <- 2 * solve(H)
    dfs[[as.character(dd)]] <- sapply(seq_len(p), function(j) { l <- numeric(p); l[j] <- 1
      g <- sapply(seq_along(psi), function(k) sum(l * (matrix(J[, k], p, p) %*% l))); 2 * sum(l * (V0 %*% l))^2 / sum(g * (A %*% g)) })
    if (dd == 0.1) H1 <- H }
  H <- H1
  df <- dfs[["0.1"]]
  out[[nm]] <- list(loglik = -dev(psi) / 2, psi = psi, ratios = exp(psi[3:5]), terms = colnames(X), se = sqrt(diag(V0)), df = df,
                    hessian_eigen = eigen(H, only.values = TRUE)$values)
  cat(nm, "ll", -dev(psi) / 2, "ratios", exp(psi[3:5]), "df (step 0.1)", dfs[["0.1"]], "(0.05)", dfs[["0.05"]], "(0.02)", dfs[["0.02"]], "H eigen", eigen(H, only.values = TRUE)$values, "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tiny_sat.json")
