# R's printed fixed-effects tables (printCoefmat, digits = 4 as lme4/lmerTest's summary):
# tests/test_coefmat_print.py compares mixedfit's formatting with these lines.
# Run: Rscript tests/reference/printing/coefmat_print.R > tests/reference/printing/coefmat_print.json
suppressMessages({library(lmerTest); library(jsonlite)})
m <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)
cases <- list(
  list(df = c(16.9997262884927, 16.9999837255917), est = c(1.5, 2.5), se = c(0.1, 0.2), t = c(15, 12.5)),
  list(df = c(45.2351, 17.0003), est = c(1.5, 2.5), se = c(0.1, 0.2), t = c(15, 12.5)),
  list(df = c(1234.567, 3.2), est = c(1.5, 2.5), se = c(0.1, 0.2), t = c(15, 12.5)),
  list(df = c(73421.2, 1127.9), est = c(-0.0123, 3.21), se = c(0.00456, 0.5), t = c(-2.697, 6.42))
)
lines <- function(m) {
  out <- capture.output(printCoefmat(m, digits = 4, signif.stars = FALSE))
  lapply(strsplit(trimws(out[-1]), " +"), function(x) x[2:5])
}
out <- list(
  sleepstudy = list(
    estimate = unname(coef(summary(m))[, 1]), std_error = unname(coef(summary(m))[, 2]),
    df = unname(coef(summary(m))[, 3]), t = unname(coef(summary(m))[, 4]),
    printed = lines(coef(summary(m))[, 1:4])
  ),
  cases = lapply(cases, function(k) {
    mm <- cbind(Estimate = k$est, "Std. Error" = k$se, df = k$df, "t value" = k$t)
    c(k, list(printed = lines(mm)))
  })
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
