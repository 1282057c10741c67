# Wheat2 spherical + nugget with by= (a separate parameter set per group), for
# tests/test_residual_restart.py. Run from the repository root:
#   Rscript tests/reference/cov_restart/make_wheat2_spher_by.R
# 1. by = a one-level column over the whole field: nlme's corSpher(form = ~ lat + long | one) is the
#    model without a group; ML from Pinheiro & Bates' start c(28, 0.2) reaches -623.666157, the best
#    of a grid of starts (make_wheat2_spher_ml.R). mixedfit's by= fit missed the spherical restarts
#    (flag read from the correlation part, which by= wraps) and stopped at -623.792241.
# 2. by = half (blocks 1-2 vs 3-4), subject = Block, yield ~ 0 + half:variety: the fixed effects,
#    the correlation parameters and (by= gives a variance ratio per group) the variance are all
#    separate per half, so the likelihood is the sum of two nlme fits, one per half,
#    corSpher(form = ~ lat + long | Block). Each half's start is the best of an 11 x 6 grid of
#    starts (range 5..100 x nugget 0.02..0.6), found once and fixed here.
suppressMessages({library(nlme); library(jsonlite)})
wheat <- read.csv("tests/data/cov/heldout_wheat2.csv")
schema <- fromJSON("tests/data/cov/heldout_schema.json")
wheat$variety <- factor(wheat$variety, levels = schema$wheat2$factors$variety)
wheat$one <- "all"
wheat$half <- ifelse(wheat$Block <= 2, "a", "b")
fit <- function(d, start, form, method) gls(yield ~ variety - 1, d, method = method,
  correlation = corSpher(start, form = form, nugget = TRUE))
g <- fit(wheat, c(28, 0.2), ~ latitude + longitude | one, "ML")
cs <- coef(g$modelStruct$corStruct, unconstrained = FALSE)
starts <- list(ML = list(a = c(40, 0.05), b = c(25, 0.1)), REML = list(a = c(15, 0.6), b = c(40, 0.2)))
half <- list()
for (m in names(starts)) {
  parts <- lapply(c("a", "b"), function(h)
    fit(wheat[wheat$half == h, ], starts[[m]][[h]], ~ latitude + longitude | Block, m))
  half[[m]] <- list(
    loglik = sum(sapply(parts, function(p) as.numeric(logLik(p)))),
    range = sapply(parts, function(p) coef(p$modelStruct$corStruct, unconstrained = FALSE)[["range"]]),
    nugget = sapply(parts, function(p) coef(p$modelStruct$corStruct, unconstrained = FALSE)[["nugget"]]),
    sigma_ratio_b = parts[[2]]$sigma / parts[[1]]$sigma * if (m == "ML") sqrt(
      (nrow(wheat[wheat$half == "b", ]) - 56) / nrow(wheat[wheat$half == "b", ]) /
      ((nrow(wheat[wheat$half == "a", ]) - 56) / nrow(wheat[wheat$half == "a", ]))) else 1)
}
out <- list(
  id = "wheat2_gls_spher_nugget_by",
  data = "heldout_wheat2.csv",
  engine = paste("nlme", packageVersion("nlme")),
  one = list(
    r = "gls(yield ~ variety - 1, Wheat2, correlation = corSpher(c(28, 0.2), form = ~ latitude + longitude | one, nugget = TRUE), method = 'ML')",
    python = "mf.gls('yield ~ 0 + variety', df, residual=mf.Spatial(['latitude', 'longitude'], kind='spherical', nugget=True, by='one'), reml=False)",
    loglik = as.numeric(logLik(g)), range = cs[["range"]], nugget = cs[["nugget"]],
    our_old_optimum = -623.792241),
  half = list(
    r = "sum over half in (a, b) of gls(yield ~ variety - 1, Wheat2[half], correlation = corSpher(start, form = ~ latitude + longitude | Block, nugget = TRUE))",
    python = "mf.gls('yield ~ 0 + half:variety', df, residual=mf.Spatial(['latitude', 'longitude'], subject='Block', kind='spherical', nugget=True, by='half'))",
    ML = half$ML, REML = half$REML)
)
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/cov_restart/wheat2_spher_by.json")
