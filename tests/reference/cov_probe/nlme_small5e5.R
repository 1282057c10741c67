# A genuine VarIdent ratio of 6e-5 with an interior optimum (mixedfit issue 12, review rv9
# MEDIUM-3: the cross products' criterion was wrong by 1.3e-4 there): y ~ stratum + x +
# (1 | subject), residual = VarIdent(stratum), 30 subjects x strata A-D x 3 rows, residual sds
# A 1, B 5e-5, C 1.5, D 0.6 (small5e5.csv: notes/rv9/make_sims.py `small()`, seed 5).
# nlme's lme by nlminb and by optim, on the rows as written, shuffled, and with y + 1e4 (the
# shifted data are other numbers: y + 1e4 rounds B's rows, whose noise is 5e-5, by ~1e-12).
# Run from the repository root:
#   Rscript tests/reference/cov_probe/nlme_small5e5.R
suppressMessages({library(jsonlite); library(nlme)})
here <- "tests/reference/cov_probe"
d0 <- read.csv(file.path(here, "small5e5.csv"), stringsAsFactors = FALSE)
fit <- function(d, method, opt) {
  d$stratum <- factor(d$stratum, levels = c("A", "B", "C", "D"))
  lme(y ~ stratum + x, random = ~ 1 | subject, data = d, method = method,
      weights = varIdent(form = ~ 1 | stratum),
      control = lmeControl(maxIter = 1000, msMaxIter = 1000, opt = opt, msTol = 1e-14,
                           tolerance = 1e-10, niterEM = 0))
}
set.seed(1)
shuffled <- d0[sample(nrow(d0)), ]
shifted <- transform(d0, y = y + 1e4)
out <- list()
for (case in c("reml", "reml_shuffled", "reml_y_plus_1e4", "ml")) {
  d <- switch(case, reml_shuffled = shuffled, reml_y_plus_1e4 = shifted, d0)
  method <- if (case == "ml") "ML" else "REML"
  fits <- lapply(c("nlminb", "optim"), function(o) tryCatch(fit(d, method, o), error = function(e) NULL))
  ll <- sapply(fits, function(f) if (is.null(f)) NA_real_ else as.numeric(logLik(f)))  # NA: failed
  f <- fits[[which.max(ll)]]  # which.max skips NA
  ratios <- coef(f$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  ratios <- ratios[c("A", "B", "C", "D")] / ratios[["A"]]
  out[[case]] <- list(
    r = paste0("lme(y ~ stratum + x, random = ~ 1 | subject, weights = varIdent(form = ~ 1 | ",
               "stratum), method = \"", method, "\"), nlminb and optim: the higher"),
    loglik = max(ll, na.rm = TRUE), loglik_nlminb = ll[1], loglik_optim = ll[2],
    beta = as.list(fixef(f)),
    sigma = f$sigma * coef(f$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)[["A"]],
    ratios = as.list(ratios),
    tau = f$sigma * sqrt(as.matrix(f$modelStruct$reStruct[[1]])[1, 1]),
    engine = paste("R", getRversion(), "/ nlme", packageVersion("nlme")))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "small5e5.json"))
