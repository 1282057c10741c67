# The edge's profile at a fixed stratum-b ratio (mixedfit's reported one): theta re-optimized (multistart).
# Rscript q1_ev_prof.R e5 1 0.12922106957211632   (run in /tmp/p13/rv18/ev)
args <- commandArgs(TRUE); name <- args[1]; edge <- as.numeric(args[2]); ratio <- as.numeric(args[3])
a0 <- c("specs.json", name, ".")
src <- readLines("/work/wt-rv18/tests/reference/cov_rar1_stress/dense_stress3.R"); cut <- grep("^set.seed\\(11\\)", src)
commandArgs <- function(...) a0
eval(parse(text = src[1:(cut - 1)]))
set.seed(13)
starts <- list()
for (sd in c(0.3, 3, 30)) for (r in c(-0.5, 0.5, 0.9)) starts[[length(starts) + 1]] <- c(rep(log(sd), nsd), cor_start(r))
best <- list(value = Inf)
for (st in starts) { o <- one(function(q) wrap(devb(q, edge, 1, ratio)), st); if (!is.null(o) && o$value < best$value) best <- o }
cat(toJSON(list(name = name, ratio = ratio, loglik = -best$value / 2), digits = NA, auto_unbox = TRUE), "\n")
