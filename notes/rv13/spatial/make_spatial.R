# rv13: Spatial (exp/gaus/spher, nugget), VarExp, VarPower(by=) held-out vs nlme
suppressMessages({library(nlme); library(jsonlite)})
set.seed(4242)
n <- 150; d <- data.frame(c1 = runif(n, 0, 10), c2 = runif(n, 0, 10), x = rnorm(n), g = sample(c("a", "b"), n, TRUE))
D <- as.matrix(dist(d[, 1:2])); S <- 4 * exp(-D / 2.5) + diag(1, n)
d$y <- 2 + 0.7 * d$x + drop(t(chol(S)) %*% rnorm(n))
d$w <- runif(n, 0.5, 3); d$y2 <- 1 + 0.5 * d$x + rnorm(n) * exp(0.3 * d$w) * ifelse(d$g == "a", 1, 1.6)
d$y3 <- 1 + 0.5 * d$x + rnorm(n) * d$w^ifelse(d$g == "a", 0.3, 0.8)
d$one <- "all"
write.csv(d, "spatial.csv", row.names = FALSE)
out <- list()
grab <- function(fit, name, python) {
  tt <- summary(fit)$tTable
  out[[name]] <<- list(python = python, reml = fit$method == "REML", loglik = as.numeric(logLik(fit)), sigma = fit$sigma,
    beta = as.list(tt[, 1]), se = as.list(tt[, 2]), struct = as.list(coef(fit$modelStruct, unconstrained = FALSE)))
  cat(name, as.numeric(logLik(fit)), "\n")
}
for (ml in c("REML", "ML")) {
  grab(gls(y ~ x, d, correlation = corExp(c(2, 0.2), form = ~ c1 + c2, nugget = TRUE), method = ml), paste0("exp_nug_", ml),
       list(f = "y ~ x", r = 'mf.Spatial(("c1", "c2"), kind="exponential", nugget=True)'))
  grab(gls(y ~ x, d, correlation = corGaus(2, form = ~ c1 + c2), method = ml), paste0("gaus_", ml),
       list(f = "y ~ x", r = 'mf.Spatial(("c1", "c2"), kind="gaussian")'))
  grab(gls(y2 ~ x, d, weights = varExp(form = ~ w), method = ml), paste0("varexp_", ml), list(f = "y2 ~ x", r = 'mf.VarExp("w")'))
  grab(gls(y3 ~ x, d, weights = varPower(form = ~ w | g), method = ml), paste0("varpower_by_", ml), list(f = "y3 ~ x", r = 'mf.VarPower("w", by="g")'))
}
write_json(out, "spatial_nlme.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
