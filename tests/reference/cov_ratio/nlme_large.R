suppressMessages(library(nlme))
for (r in c("300","1000")) {
  d <- read.csv(paste0("d_", r, ".csv")); d$stratum <- factor(d$stratum); d$subject <- factor(d$subject)
  for (meth in c("REML","ML")) {
  f <- tryCatch(lme(y ~ stratum, random = ~1|subject, weights = varIdent(form = ~1|stratum), data = d, method = meth,
      control = lmeControl(msMaxIter = 500, maxIter = 500)), error = function(e) e)
  if (inherits(f, "error")) { cat(r, meth, "ERROR", conditionMessage(f), "\n"); next }
  ratios <- coef(f$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  cat(sprintf("%s %s ll=%.8f sigma=%.6g  ratios=%s  sdB=%.4g\n", r, meth, logLik(f), f$sigma, paste(sprintf("%s:%.5g", names(ratios), ratios), collapse=" "), f$sigma*ratios["B"]))
  }
}
