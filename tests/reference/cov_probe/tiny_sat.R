# Dense Satterthwaite df (REML) at a tiny *interior* VarIdent ratio (review rv10 HIGH-4): ri_ar14
# (y ~ stratum + x + (1|subject), AR1(t, subject) & VarIdent(stratum), stratum B ratio 8.8e-5).
# psi = (log sigma_A, log tau, log dB, log dC, log dD, atanh phi); the unprofiled REML deviance and Var(beta) from
# Householder QR of the per-subject whitened [X y]; numDeriv Hessian / Jacobian with ABSOLUTE steps 0.1, 0.05, 0.02
# (rv10's relative steps d = 0.1 / 0.02 disagreed by ~1 %: psi near 0 got steps ~1e-4, within the noise);
# df = 2 Var^2 / (g' (2 H^-1) g), stored at step 0.1. Run (in this directory): Rscript tiny_sat.R
suppressMessages(library(jsonlite))
# the model (tiny_sat_model.R) and the df (sat_df_at of ../limit_df/sat_dense.R), both source()d by
# paths from this directory (until session 12 this script held copies of both)
source("tiny_sat_model.R"); source("../limit_df/sat_dense.R")
out <- list()
for (nm in c("ri_ar14")) {
  ar <- nm == "ri_ar14"
  d <- read.csv(sprintf("tiny_%s.csv", nm), stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
  d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
  m <- tiny_sat_model(d, ar, with_tau = TRUE); X <- m$X; p <- m$p; dev <- m$dev; vcov <- m$vcov
  st <- c(0, 0, log(1e-4), log(1.5), log(0.7), if (ar) atanh(0.4))
  opt <- nlminb(st, dev, control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000, iter.max = 5000))
  o2 <- optim(opt$par, dev, method = "BFGS", control = list(reltol = 1e-16, maxit = 2000))
  psi <- if (o2$value < opt$objective) o2$par else opt$par
  V0 <- vcov(psi)
  dfs <- list()
  z <- numeric(length(psi))
  for (dd in c(0.1, 0.05, 0.02)) {
    r <- sat_df_at(function(q) dev(psi + q), function(q) vcov(psi + q), z,
                   method.args = list(eps = dd, d = dd, zero.tol = 1))
    dfs[[as.character(dd)]] <- r$df
    if (dd == 0.1) H1 <- r$H }
  H <- H1
  df <- dfs[["0.1"]]
  out[[nm]] <- list(loglik = -dev(psi) / 2, psi = psi, ratios = exp(psi[3:5]), terms = colnames(X), se = sqrt(diag(V0)), df = df,
                    hessian_eigen = eigen(H, only.values = TRUE)$values)
  cat(nm, "ll", -dev(psi) / 2, "ratios", exp(psi[3:5]), "df (step 0.1)", dfs[["0.1"]], "(0.05)", dfs[["0.05"]], "(0.02)", dfs[["0.02"]], "H eigen", eigen(H, only.values = TRUE)$values, "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tiny_sat.json")
