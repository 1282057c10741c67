suppressMessages(library(nlme))
d <- read.csv("/tmp/p11/rv13/heldout/heldout.csv"); d <- d[d$visit <= 2 & !is.na(d$y), ]
for (pq in list(c(1, 0), c(1, 1), c(2, 1))) {
  r <- tryCatch({m <- gls(y ~ t * trt + x, d, correlation = corARMA(form = ~ visit | id, p = pq[1], q = pq[2]))
                 c(logLik(m), attr(logLik(m), "df"))}, error = function(e) conditionMessage(e))
  cat("ARMA", pq, ":", r, "\n")
}
