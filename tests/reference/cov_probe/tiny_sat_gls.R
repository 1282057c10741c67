# Dense Satterthwaite df (REML) at tiny *interior* VarIdent ratios, GLS (review rv10 HIGH-4): ar13 (y ~ stratum + x,
# AR1(t, subject) & VarIdent(stratum), B ratio 9.3e-4) and none4 (VarIdent only, B ratio 7.5e-5). psi = (log sigma_A,
# log dB, log dC, log dD[, atanh phi]); the unprofiled REML deviance and Var(beta) from Householder QR of the
# per-subject whitened [X y]; numDeriv Hessian / Jacobian (relative steps d = 0.1 and 0.02 agree to 1e-5);
# df = 2 Var^2 / (g' (2 H^-1) g). Run (in this directory): Rscript tiny_sat_gls.R
suppressMessages(library(jsonlite))
# the model (tiny_sat_model.R) and the df (sat_df_at of ../limit_df/sat_dense.R), both source()d by
# paths from this directory (until session 12 this script held copies of both)
source("tiny_sat_model.R"); source("../limit_df/sat_dense.R")
out <- list()
for (nm in c("ar13", "none4")) {
  ar <- nm == "ar13"
  d <- read.csv(sprintf("tiny_%s.csv", nm), stringsAsFactors = FALSE); d$y <- d$y - mean(d$y)
  d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
  m <- tiny_sat_model(d, ar, with_tau = FALSE); X <- m$X; p <- m$p; dev <- m$dev; vcov <- m$vcov
  st <- c(0, log(1e-3), log(1.5), log(0.7), if (ar) atanh(0.4))
  if (nm == "none4") st[2] <- log(1e-4)
  opt <- nlminb(st, dev, control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000, iter.max = 5000))
  o2 <- optim(opt$par, dev, method = "BFGS", control = list(reltol = 1e-16, maxit = 2000))
  psi <- if (o2$value < opt$objective) o2$par else opt$par
  V0 <- vcov(psi)
  dfs <- list()
  for (dd in c(0.1, 0.02)) {
  r <- sat_df_at(dev, vcov, psi, dd)
  dfs[[as.character(dd)]] <- r$df; H <- r$H }  # H: the last step's (0.02), as stored before
  df <- dfs[["0.1"]]
  out[[nm]] <- list(loglik = -dev(psi) / 2, psi = psi, ratios = exp(psi[2:4]), terms = colnames(X), se = sqrt(diag(V0)), df = df,
                    hessian_eigen = eigen(H, only.values = TRUE)$values)
  cat(nm, "ll", -dev(psi) / 2, "ratios", exp(psi[2:4]), "df (d=0.1)", dfs[["0.1"]], "(d=0.02)", dfs[["0.02"]], "H eigen", eigen(H, only.values = TRUE)$values, "\n")
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tiny_sat_gls.json")
