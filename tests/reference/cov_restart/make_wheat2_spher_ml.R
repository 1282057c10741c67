# Wheat2, yield ~ 0 + variety with a spherical correlation and a nugget, ML (nlme), for
# tests/test_residual_restart.py. Run from the repository root:
#   Rscript tests/reference/cov_restart/make_wheat2_spher_ml.R
# The spherical kernel has compact support: the likelihood has a kink wherever a distance crosses
# the range, and many local optima. nlme from a grid of starts (range x nugget) ends at six of them
# (-623.666, -623.792, -623.823, -624.003, -624.078, -624.187); the best, -623.666157 (range 27.21,
# nugget 0.155), is reached from Pinheiro & Bates' start c(28, 0.2) among others. A direct scan of
# the ML criterion over the range (nugget optimized, range 5..120 by 0.5) peaks near range 27, the
# same optimum. The reference is nlme's fit from c(28, 0.2).
suppressMessages({library(nlme); library(jsonlite)})
wheat <- read.csv("tests/data/cov/heldout_wheat2.csv")
schema <- fromJSON("tests/data/cov/heldout_schema.json")
wheat$variety <- factor(wheat$variety, levels = schema$wheat2$factors$variety)
fit_from <- function(r, c) gls(yield ~ variety - 1, wheat, method = "ML",
  correlation = corSpher(c(r, c), form = ~ latitude + longitude, nugget = TRUE))
starts <- expand.grid(range = c(5, 10, 20, 28, 34, 40, 50, 70, 100), nugget = c(0.05, 0.1, 0.2, 0.4))
starts$loglik <- NA
for (i in seq_len(nrow(starts))) {
  g <- try(fit_from(starts$range[i], starts$nugget[i]), silent = TRUE)
  if (!inherits(g, "try-error")) starts$loglik[i] <- as.numeric(logLik(g))
}
g <- fit_from(28, 0.2)
stopifnot(abs(as.numeric(logLik(g)) - max(starts$loglik, na.rm = TRUE)) < 1e-6)
cs <- coef(g$modelStruct$corStruct, unconstrained = FALSE)
# D is the direct ML criterion at nlme's estimates (a check of the scale)
X <- model.matrix(yield ~ variety - 1, wheat); y <- wheat$yield; N <- nrow(X)
D <- as.matrix(dist(wheat[, c("latitude", "longitude")]))
x <- D / cs[["range"]]
L <- (1 - cs[["nugget"]]) * ifelse(x < 1, 1 - 1.5 * x + 0.5 * x^3, 0); diag(L) <- 1
C <- chol(L); Xw <- backsolve(C, X, transpose = TRUE); yw <- backsolve(C, y, transpose = TRUE)
b <- qr.coef(qr(Xw), yw); rss <- sum((yw - Xw %*% b)^2)
direct <- -0.5 * (N * (log(2 * pi * rss / N) + 1) + 2 * sum(log(diag(C))))
stopifnot(abs(direct - as.numeric(logLik(g))) < 1e-6)
out <- list(
  id = "wheat2_gls_spher_nugget_ml_best",
  data = "heldout_wheat2.csv",
  engine = paste("nlme", packageVersion("nlme")),
  r = "gls(yield ~ variety - 1, Wheat2, correlation = corSpher(c(28, 0.2), form = ~ latitude + longitude, nugget = TRUE), method = 'ML')",
  python = list(formula = "yield ~ 0 + variety",
                residual = "mf.Spatial([\"latitude\", \"longitude\"], kind=\"spherical\", nugget=True)",
                reml = FALSE),
  loglik = as.numeric(logLik(g)),
  beta = as.list(coef(g)),
  sigma_ml = g$sigma * sqrt((N - ncol(X)) / N),
  range = cs[["range"]],
  nugget = cs[["nugget"]],
  local_optima = sort(unique(round(starts$loglik, 6)), decreasing = TRUE),
  our_old_optimum = -623.792241
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/cov_restart/wheat2_spher_nugget_ml.json")
