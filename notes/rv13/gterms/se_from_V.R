# rv13: model-based SE (X'V^-1X)^-1 from glmmTMB's fitted G and sigma (the convention of the shared references)
suppressMessages({library(glmmTMB); library(jsonlite)})
d <- read.csv("gterms.csv", stringsAsFactors = FALSE)
dc <- d[!is.na(d$y), ]; dc$visitf <- factor(dc$visitf, levels = paste0("V", 1:5)); dc$trt <- factor(dc$trt)
out <- fromJSON("gterms_tmb.json")
for (reml in c(TRUE, FALSE)) for (k in c("cs", "ar1", "diag")) {
  nm <- sprintf("%s_%s", k, if (reml) "REML" else "ML")
  m <- glmmTMB(as.formula(out[[nm]]$formula), dc, REML = reml)
  G <- VarCorr(m)$cond$site
  X <- model.matrix(~ t * trt + x, dc)
  V <- diag(sigma(m)^2, nrow(dc))
  for (s in unique(dc$site)) { i <- which(dc$site == s); v <- as.integer(dc$visitf[i]); V[i, i] <- V[i, i] + G[v, v] }
  Vi <- solve(V); se <- sqrt(diag(solve(t(X) %*% Vi %*% X)))
  out[[nm]]$se_V <- as.list(se); out[[nm]]$se <- NULL
  cat(nm, se, "\n")
}
write_json(out, "gterms_tmb_seV.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
