suppressMessages({library(nlme)})
rd <- function(f) { d <- read.csv(f, stringsAsFactors = FALSE); d$t <- factor(d$t); d }
for (cs in list(c("ev3.csv", "y ~ x + arm + t + site"), c("ev4.csv", "y ~ x + arm + t + site"), c("ev2.csv", "y ~ x + arm + t + site"))) {
  d <- rd(cs[1]); f <- as.formula(cs[2])
  g <- gls(f, d, correlation = corCompSymm(form = ~ 1 | g), method = "ML")
  prof <- sapply(10^-(2 * (1:8)), function(tt) { r <- (tt - 1) / (tt + 4)
    as.numeric(logLik(gls(f, d, correlation = corCompSymm(r, form = ~ 1 | g, fixed = TRUE), method = "ML"))) })
  cat(cs, "interior", format(as.numeric(logLik(g)), digits = 12), "profile t=1e-2..1e-16:", round(prof, 2), "\n")
}
