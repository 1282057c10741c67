# rv13 held-out data and nlme fits (issue 12 audit). Rscript make_heldout.R (in this directory)
suppressMessages({library(nlme); library(jsonlite)})
set.seed(1307)
ns <- 70; m <- 5
tt <- c(0, 1, 2, 4, 7)          # continuous time (irregular)
d <- expand.grid(visit = 1:m, id = 1:ns)
d$t <- tt[d$visit]
d$trt <- ifelse(d$id %% 2 == 0, "B", "A")
d$x <- round(rnorm(nrow(d)), 3)
b0 <- rnorm(ns, 0, 1.5)[d$id]
e <- numeric(nrow(d))
for (i in 1:ns) {               # AR(1)-like in visit, variance growing with t+1
  idx <- which(d$id == i); z <- rnorm(m)
  for (k in 2:m) z[k] <- 0.6 * z[k - 1] + sqrt(1 - 0.36) * z[k]
  e[idx] <- z * (d$t[idx] + 1)^0.4 * 1.2
}
d$y <- 10 + 0.8 * d$t + 1.0 * (d$trt == "B") + 0.3 * d$t * (d$trt == "B") + 0.5 * d$x + b0 + e
d$tp <- d$t + 1
# 12% missing response (kept as NA rows for the Python side; dropped for nlme)
d$y[sample(nrow(d), round(0.12 * nrow(d)))] <- NA
d$id <- sprintf("s%03d", d$id)
d$visitf <- factor(paste0("V", d$visit), levels = paste0("V", 1:m))
write.csv(d, "heldout.csv", row.names = FALSE, na = "")
dc <- d[!is.na(d$y), ]
dc$id <- factor(dc$id); dc$trt <- factor(dc$trt, levels = c("A", "B"))
out <- list()
grab <- function(fit, name, python) {
  s <- summary(fit)
  tt <- s$tTable
  cs <- coef(fit$modelStruct, unconstrained = FALSE)
  out[[name]] <<- list(python = python, reml = fit$method == "REML", loglik = as.numeric(logLik(fit)),
    df_loglik = attr(logLik(fit), "df"), aic = AIC(fit), bic = BIC(fit), sigma = fit$sigma,
    beta = as.list(tt[, 1]), se = as.list(tt[, 2]), struct = as.list(cs))
}
for (ml in c("REML", "ML")) {
  f1 <- gls(y ~ t * trt + x, dc, correlation = corCAR1(form = ~ t | id), method = ml)
  grab(f1, paste0("gls_car1_", ml), list(f = "y ~ t * trt + x", r = 'mf.CAR1("t", "id")', re = FALSE))
  f1b <- lme(y ~ t * trt + x, dc, random = ~ 1 | id, correlation = corCAR1(form = ~ t | id), method = ml)
  grab(f1b, paste0("lme_ri_car1_", ml), list(f = "y ~ t * trt + x + (1|id)", r = 'mf.CAR1("t", "id")', re = TRUE))
  f2 <- lme(y ~ t * trt + x, dc, random = ~ 1 | id, correlation = corAR1(form = ~ visit | id),
            weights = varPower(form = ~ tp), method = ml)
  grab(f2, paste0("lme_ri_ar1_varpower_", ml), list(f = "y ~ t * trt + x + (1|id)", r = 'mf.AR1("visit", "id") & mf.VarPower("tp")', re = TRUE))
  f2g <- gls(y ~ t * trt + x, dc, correlation = corAR1(form = ~ visit | id), weights = varPower(form = ~ tp), method = ml)
  grab(f2g, paste0("gls_ar1_varpower_", ml), list(f = "y ~ t * trt + x", r = 'mf.AR1("visit", "id") & mf.VarPower("tp")', re = FALSE))
  # gap check inside R: AR1 on integer visit == CAR1 on integer visit
  f2c <- gls(y ~ t * trt + x, dc, correlation = corCAR1(form = ~ visit | id), weights = varPower(form = ~ tp), method = ml)
  out[[paste0("gapcheck_", ml)]] <- c(ar1 = as.numeric(logLik(f2g)), car1_int = as.numeric(logLik(f2c)))
  # homogeneous Toeplitz = AR(m-1) (partial autocorrelations <-> PD Toeplitz correlation)
  f3 <- gls(y ~ t * trt + x, dc, correlation = corARMA(form = ~ visit | id, p = m - 1), method = ml,
            control = glsControl(msMaxIter = 500))
  grab(f3, paste0("gls_toep_", ml), list(f = "y ~ t * trt + x", r = 'mf.Toeplitz("visit", "id")', re = FALSE))
  # Toeplitz correlations (lags 1..m-1) from the fitted corARMA
  cm <- corMatrix(f3$modelStruct$corStruct)[[1]]
  out[[paste0("gls_toep_", ml)]]$toep_cor <- NULL
  full <- which(sapply(corMatrix(f3$modelStruct$corStruct), nrow) == m)[1]
  cm <- corMatrix(f3$modelStruct$corStruct)[[full]]
  out[[paste0("gls_toep_", ml)]]$toep_lags <- cm[1, 2:m]
  f4 <- gls(y ~ t * trt + x, dc, correlation = corCompSymm(form = ~ 1 | id), weights = varIdent(form = ~ 1 | visitf), method = ml)
  grab(f4, paste0("gls_csh_", ml), list(f = "y ~ t * trt + x", r = 'mf.CompoundSymmetry("id", time="visitf", heterogeneous=True)', re = FALSE))
  out[[paste0("gls_csh_", ml)]]$ratios <- as.list(coef(f4$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE))
}
write_json(out, "heldout_nlme.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("done\n")
