# The phi = edge of a c26-like set (ev/): the edge with stratum b's ratio free (multistart) and the
# limit with b at 0, by the reviewer's dense criterion (sourced, cut before its multistart), REML.
# Rscript q1_ev_edge.R e3 1   (run in /tmp/p13/rv18/ev)
args <- commandArgs(TRUE); name <- args[1]; edge <- as.numeric(args[2])
a0 <- c("specs.json", name, ".")
src <- readLines("/work/wt-rv18/tests/reference/cov_rar1_stress/dense_stress3.R"); cut <- grep("^set.seed\\(11\\)", src)
commandArgs <- function(...) a0
eval(parse(text = src[1:(cut - 1)]))
set.seed(13)
starts <- list()
for (sd in c(0.3, 3, 30)) for (r in c(-0.5, 0.5, 0.9)) for (lr in c(-4, -1, 0)) starts[[length(starts) + 1]] <- c(rep(log(sd), nsd), cor_start(r), lr)
best <- list(value = Inf)
for (st in starts) { o <- one(fedge(edge), st); if (!is.null(o) && o$value < best$value) best <- o }
lim <- list(value = Inf)
for (st in starts) { o <- one(function(q) wrap(devb(q, edge, 1, 0)), st[1:ng]); if (!is.null(o) && o$value < lim$value) lim <- o }
cat(toJSON(list(name = name, edge = edge, edge_free_loglik = -best$value / 2, ratio = exp(best$par[ng + 1]),
                limit_b0_loglik = -lim$value / 2), digits = NA, auto_unbox = TRUE), "\n")
