# nlme fits of the rv10 held-out cases (REML and ML; rows as written and y + 1e4, y * 1e-3).
suppressMessages({library(jsonlite); library(nlme)})
dir <- "/tmp/p10/rv10/data"
spec <- list(
  none4 = list(kind = "gls", corr = "none"), cs5 = list(kind = "gls", corr = "cs"),
  ar13 = list(kind = "gls", corr = "ar1"), ar16 = list(kind = "gls", corr = "ar1"),
  ri_none6 = list(kind = "lme", corr = "none", re = ~1 | subject),
  ri_ar14 = list(kind = "lme", corr = "ar1", re = ~1 | subject),
  slope4 = list(kind = "lme", corr = "none", re = ~1 + x | subject),
  two5 = list(kind = "lme", corr = "none", re = ~1 | site/subject))
args <- commandArgs(TRUE); if (length(args)) spec <- spec[args]
ctl_l <- function(opt) lmeControl(maxIter = 1000, msMaxIter = 1000, opt = opt, msTol = 1e-14, tolerance = 1e-10, niterEM = 0, returnObject = TRUE)
ctl_g <- function(opt) glsControl(maxIter = 1000, msMaxIter = 1000, opt = opt, msTol = 1e-14, tolerance = 1e-10, returnObject = TRUE)
out <- list()
for (nm in names(spec)) {
  s <- spec[[nm]]
  d0 <- read.csv(file.path(dir, paste0(nm, ".csv")), stringsAsFactors = TRUE)
  d0$stratum <- factor(d0$stratum, levels = c("A","B","C","D"))
  cor <- switch(s$corr, none = NULL, cs = corCompSymm(form = ~1 | subject), ar1 = corAR1(form = ~t | subject))
  for (variant in c("asis", "plus", "times")) {
    d <- d0
    if (variant == "plus") d$y <- d$y + 1e4
    if (variant == "times") d$y <- d$y * 1e-3
    for (method in c("REML", "ML")) {
      fits <- lapply(c("nlminb", "optim"), function(o) tryCatch({
        if (s$kind == "gls") gls(y ~ stratum + x, data = d, weights = varIdent(form = ~1 | stratum), correlation = cor, method = method, control = ctl_g(o))
        else lme(y ~ stratum + x, random = s$re, data = d, weights = varIdent(form = ~1 | stratum), correlation = cor, method = method, control = ctl_l(o))
      }, error = function(e) {message(nm, " ", variant, " ", method, ": ", conditionMessage(e)); NULL}))
      if (all(sapply(fits, is.null))) { out[[paste(nm, variant, method, sep = ".")]] <- list(error = "both failed"); next }
      ll <- sapply(fits, function(f) if (is.null(f)) NA_real_ else as.numeric(logLik(f)))
      f <- fits[[which.max(ll)]]
      vs <- coef(f$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
      beta <- if (s$kind == "gls") coef(f) else fixef(f)
      out[[paste(nm, variant, method, sep = ".")]] <- list(loglik = max(ll, na.rm = TRUE), ll_nlminb = ll[1], ll_optim = ll[2],
        beta = as.list(beta), se = as.list(sqrt(diag(vcov(f)))), sigma = f$sigma, ratios = as.list(vs[c("A","B","C","D")] / vs[["A"]]))
    }
  }
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), sprintf("/tmp/p10/rv10/nlme_%s.json", if (length(args)) paste(args, collapse="_") else "all"))
