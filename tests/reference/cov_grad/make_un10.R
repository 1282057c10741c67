# Reference for tests/test_residual_gradient.py: a 10-visit unstructured GLS fit (nlme gls,
# corSymm + varIdent = SAS UN, REML and ML) on simulated repeated measures with missing visits.
# Writes un10.csv (the data) and un10_reml.json / un10_ml.json next to this script.
# Run from this folder: Rscript make_un10.R
suppressMessages(library(nlme))
library(jsonlite)
set.seed(20261206)
ns <- 150; m <- 10
id <- rep(sprintf("s%03d", 1:ns), each = m)
vnum <- rep(1:m, ns)
trt <- rep(sample(0:1, ns, replace = TRUE), each = m)
L <- diag(m)
L[lower.tri(L)] <- rnorm(m * (m - 1) / 2, 0, 0.35)
diag(L) <- seq(1, 2, length.out = m)
e <- as.vector(t(matrix(rnorm(ns * m), ns, m) %*% t(L)))
y <- 1 + 0.2 * vnum + 0.5 * trt + 0.05 * vnum * trt + e
d <- data.frame(y = y, id = id, vnum = vnum, visit = sprintf("v%02d", vnum), trt = trt)
d <- d[runif(nrow(d)) >= 0.1, ]
write.csv(d, "un10.csv", row.names = FALSE)
d$id <- factor(d$id)
d$visit <- factor(d$visit)
for (method in c("REML", "ML")) {
  secs <- system.time(f <- gls(y ~ visit * trt, data = d, method = method,
    correlation = corSymm(form = ~ vnum | id), weights = varIdent(form = ~ 1 | visit),
    control = glsControl(maxIter = 500, msMaxIter = 500)))[["elapsed"]]
  out <- list(
    r = paste0("gls(y ~ visit * trt, data = d, method = '", method, "', correlation = ",
               "corSymm(form = ~ vnum | id), weights = varIdent(form = ~ 1 | visit))"),
    engine = paste("nlme", packageVersion("nlme")),
    reml = method == "REML", nobs = nrow(d), seconds = secs,
    loglik = as.numeric(logLik(f)), objective = -2 * as.numeric(logLik(f)),
    beta = as.list(coef(f)), se = as.list(sqrt(diag(vcov(f)))), sigma = f$sigma,
    residual_cov_first = unname(unclass(getVarCov(f, individual = levels(d$id)[1])))
  )
  write_json(out, sprintf("un10_%s.json", tolower(method)), digits = NA, auto_unbox = TRUE,
             pretty = TRUE)
}
