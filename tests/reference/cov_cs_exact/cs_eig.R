# Lane cseig (issue 12): the near-limit optima of cs_near0_1e-10 (between-subject sd 1e-10), whose search in
# cs_exact.R stopped at its end t = exp(-40) = 4.2e-18: the same dense criterion (cs_exact.R's `dense`, taken from
# that script unevaluated), searched over log t in (-80, 5); also cs_near0_1e-07 as a check against cs_exact.json.
# Run (in this directory): Rscript cs_eig.R
suppressMessages(library(jsonlite))
exprs <- parse("cs_exact.R")
for (e in exprs) if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name("dense"))) eval(e)
out <- list()
for (f in c("cs_near0_1e-07", "cs_near0_1e-10")) {
  d <- read.csv(paste0(f, ".csv")); d$g <- factor(d$g)
  for (meth in c("REML", "ML")) {
    o <- optimize(function(u) dense(d, exp(u), meth == "REML"), c(-80, 5), tol = 1e-12)
    out[[f]][[meth]] <- list(optimum_t = exp(o$minimum), optimum_loglik = -o$objective / 2)
    cat(f, meth, "t", exp(o$minimum), "loglik", -o$objective / 2, "\n")
  }
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "cs_eig.json")
