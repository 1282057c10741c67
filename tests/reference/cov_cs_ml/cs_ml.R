# Issue 12 (lane csml; rv25 HIGH-1): ML (and REML) CS fits with few largest subjects, which nlme fits normally.
# gls/lme with corCompSymm (& varIdent); by= arm (a rho and a residual sd per arm) by the dense criterion of
# ../limit_df/sat_dense.R (sourced), maximized by nlminb + BFGS. Run here: Rscript cs_ml.R > cs_ml.json
suppressMessages({library(nlme); library(jsonlite)}); source("../limit_df/sat_dense.R")
rd <- function(f) { d <- read.csv(f, stringsAsFactors = FALSE); d$t <- factor(d$t); d }
d <- rd("extra_visit2.csv"); d1 <- rd("extra_visit1.csv"); out <- list()
cs <- corCompSymm(form = ~ 1 | g)
gl <- function(f) list(loglik = as.numeric(logLik(f)), rho = coef(f$modelStruct$corStruct, unconstrained = FALSE)[[1]])
for (m in c("ML", "REML")) out[[paste0("gls_", m)]] <- gl(gls(y ~ x + arm + t, d, correlation = cs, method = m))
out$lme_site_ML <- gl(lme(y ~ x + arm + t, d, random = ~ 1 | site, correlation = corCompSymm(form = ~ 1 | site / g), method = "ML"))
vi <- gls(y ~ x + arm + t, d, correlation = cs, weights = varIdent(form = ~ 1 | arm), method = "ML")
out$varident_ML <- c(gl(vi), list(ratio_A = coef(vi$modelStruct$varStruct, unconstrained = FALSE)[[1]]))
out$small_ML <- gl(gls(y ~ x, d1, correlation = cs, method = "ML"))
# by = arm: psi = (log sd_A, log sd_B, atanh rho_A, atanh rho_B)
X <- model.matrix(~ x + arm + t, d); blocks <- split(seq_len(nrow(d)), d$g)
Vfun <- function(psi, rows) { a <- d$arm[rows[1]] == "A"; s <- exp(psi[if (a) 1 else 2]); r <- tanh(psi[if (a) 3 else 4])
  m <- length(rows); s^2 * ((1 - r) * diag(m) + r) }
dev <- sat_deviance(sat_pieces(X, d$y, blocks, Vfun), nrow(d), ncol(X), FALSE)
f <- function(psi) { v <- tryCatch(dev(psi), error = function(e) Inf); if (is.finite(v)) v else 1e10 }
best <- NULL
for (r0 in c(-0.2, 0.3, 0.6)) { o <- nlminb(c(0, 0, atanh(r0), atanh(r0)), f, control = list(iter.max = 2000, eval.max = 4000, rel.tol = 1e-13))
  o1 <- optim(o$par, f, method = "BFGS", control = list(maxit = 2000, reltol = 1e-15))
  if (is.null(best) || o1$value < best$value) best <- o1 }
out$by_arm_ML <- list(loglik = -best$value / 2, rho_A = tanh(best$par[3]), rho_B = tanh(best$par[4]),
  ratio_A = exp(best$par[1] - best$par[2]))
cat(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE), "\n")
