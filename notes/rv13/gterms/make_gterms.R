# rv13: structured G terms held-out vs glmmTMB 1.1.5 (sites of 5 subjects, site effect AR(1)-like over visits)
suppressMessages({library(glmmTMB); library(jsonlite)})
d <- read.csv("../heldout/heldout.csv", stringsAsFactors = FALSE)
set.seed(77)
d$site <- sprintf("site%02d", (as.integer(sub("s", "", d$id)) - 1) %/% 5 + 1)
ns <- length(unique(d$site))
eff <- matrix(0, ns, 5)
for (s in 1:ns) { z <- rnorm(5); for (k in 2:5) z[k] <- 0.5 * z[k-1] + sqrt(0.75) * z[k]; eff[s, ] <- z * c(1, 1.2, 1.4, 1.6, 1.8) }
d$y <- d$y + eff[cbind(as.integer(factor(d$site)), d$visit)]
write.csv(d, "gterms.csv", row.names = FALSE, na = "")
dc <- d[!is.na(d$y), ]; dc$visitf <- factor(dc$visitf, levels = paste0("V", 1:5)); dc$trt <- factor(dc$trt)
out <- list()
for (reml in c(TRUE, FALSE)) for (k in c("toep", "cs", "ar1", "diag")) {
  fo <- as.formula(sprintf("y ~ t * trt + x + %s(0 + visitf | site)", k))
  m <- tryCatch(glmmTMB(fo, dc, REML = reml, control = glmmTMBControl(optCtrl = list(iter.max = 2000, eval.max = 4000))), error = function(e) NULL)
  if (is.null(m)) { cat(k, reml, "glmmTMB error\n"); next }
  s <- summary(m)$coefficients$cond
  nm <- sprintf("%s_%s", k, if (reml) "REML" else "ML")
  out[[nm]] <- list(formula = sprintf("y ~ t * trt + x + %s(0 + visitf | site)", k), reml = reml,
                    loglik = as.numeric(logLik(m)), conv = m$fit$convergence, pdHess = m$sdr$pdHess,
                    beta = as.list(s[, 1]), se = as.list(s[, 2]), sigma = sigma(m))
  cat(nm, out[[nm]]$loglik, m$fit$convergence, m$sdr$pdHess, "\n")
}
write_json(out, "gterms_tmb.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
