# nlme's ML fit of a_ident1.csv (review rv19 LOW-1): y ~ x, random = ~ 1 | Subject, varIdent(~ 1 | grp)
# with stratum b's sd 0.004 of a's by design, rows of both strata within each subject: the ratio is
# a well identified interior optimum below mixedfit's VANISHED (1e-2), not a vanished variance.
# For tests/test_varident_vanished_verdict.py. Run from the repository root:
#   Rscript tests/reference/cov_vi_vanished_verdict/nlme_ident.R
suppressMessages({library(nlme); library(jsonlite)})
where <- "tests/reference/cov_vi_vanished_verdict"
d <- read.csv(file.path(where, "a_ident1.csv"))
d$grp <- factor(d$grp, levels = c("a", "b"))
f <- lme(y ~ x, random = ~ 1 | Subject, weights = varIdent(form = ~ 1 | grp), data = d,
         method = "ML", control = lmeControl(maxIter = 500, msMaxIter = 500, opt = "optim",
                                             tolerance = 1e-10))
out <- list(loglik = as.numeric(logLik(f)),
            ratio = as.numeric(coef(f$modelStruct$varStruct, unconstrained = FALSE)),
            beta = as.numeric(fixef(f)), sigma = f$sigma, sd_intercept = as.numeric(VarCorr(f)[1, 2]),
            nlme = as.character(packageVersion("nlme")))
write_json(out, file.path(where, "a_ident1_nlme.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
print(out)
