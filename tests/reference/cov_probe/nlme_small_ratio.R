# A genuinely small VarIdent ratio with an interior optimum (mixedfit issue 12, the boundary
# probe of engine/residual/probe.py must reject it): y ~ stratum + x + (1 + x | subject),
# residual = VarIdent(stratum), 25 subjects x strata A-E x 3 rows; the true residual sds are
# A 1, B 0.003, C 2, D 0.5, E 3 (B's is 1e-3 of E's). small_ratio.csv was written by
# make_probe_data.py. nlme's lme fits it (REML and ML).
# Run from the repository root:
#   Rscript tests/reference/cov_probe/nlme_small_ratio.R
suppressMessages({library(jsonlite); library(nlme)})
here <- "tests/reference/cov_probe"
d <- read.csv(file.path(here, "small_ratio.csv"), stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D", "E"))
d$subject <- factor(d$subject)
out <- list()
for (method in c("REML", "ML")) {
  f <- lme(y ~ stratum + x, random = ~ 1 + x | subject, data = d, method = method,
           weights = varIdent(form = ~ 1 | stratum),
           control = lmeControl(msMaxIter = 1000, maxIter = 1000, msTol = 1e-12, tolerance = 1e-10))
  ratios <- coef(f$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  out[[tolower(method)]] <- list(
    r = paste0("lme(y ~ stratum + x, random = ~ 1 + x | subject, weights = varIdent(form = ~ 1 | ",
               "stratum), method = \"", method, "\")"),
    loglik = as.numeric(logLik(f)),
    beta = as.list(fixef(f)),
    sigma = f$sigma,
    ratios = as.list(ratios[levels(d$stratum)]),
    engine = paste("R", getRversion(), "/ nlme", packageVersion("nlme")))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "small_ratio.json"))
