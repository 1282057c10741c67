# Two nested random-effects terms at a genuine VarIdent ratio of 6e-5 (lane tiny2, issue 12):
# small5e5.csv with site = the subject's number %/% 5 (6 sites of 5 subjects),
# y ~ stratum + x + (1 | site/subject), residual = VarIdent(stratum), REML; nlme's lme by nlminb
# and optim (the better kept). Run from the repository root:
#   Rscript tests/reference/cov_probe/nlme_small5e5_nested.R
suppressMessages({library(jsonlite); library(nlme)})
here <- "tests/reference/cov_probe"
d <- read.csv(file.path(here, "small5e5.csv"), stringsAsFactors = FALSE)
d$site <- sprintf("t%d", as.integer(sub("s", "", d$subject)) %/% 5)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
fit <- function(opt) {
  lme(y ~ stratum + x, random = ~ 1 | site/subject, data = d, method = "REML",
      weights = varIdent(form = ~ 1 | stratum),
      control = lmeControl(maxIter = 1000, msMaxIter = 1000, opt = opt, msTol = 1e-14,
                           tolerance = 1e-10, niterEM = 0))
}
fits <- lapply(c("nlminb", "optim"), function(o) tryCatch(fit(o), error = function(e) NULL))
ll <- sapply(fits, function(f) if (is.null(f)) NA_real_ else as.numeric(logLik(f)))
f <- fits[[which.max(ll)]]
ratios <- coef(f$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
ratios <- ratios[c("A", "B", "C", "D")] / ratios[["A"]]
out <- list(loglik = as.numeric(logLik(f)), loglik_by_optimizer = ll, beta = as.list(fixef(f)),
            se = sqrt(diag(vcov(f))), sigma = f$sigma, ratios = as.list(ratios),
            engine = paste("nlme", packageVersion("nlme")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "small5e5_nested.json"))
print(out)
