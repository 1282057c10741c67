# Review rv18 (session 13) LOW-1 / MEDIUM-2: c26-like set e5 (rv18's q1_ev_gen.py: c26's spec,
# residual scale 0.2, stratum b's ratio 0.15), REML, y ~ x + ar1(0 + occf | Subject, hom = FALSE)
# with AR1(occ) & VarIdent(grp) residuals, at the edge phi = 1. By the dense criterion of
# ../cov_rar1_stress/dense_stress3.R (sourced up to its own multistart; written without mixedfit):
#   edge_free: the edge's supremum, stratum b's ratio free (27 starts);
#   profile:   the edge at b's ratio fixed to argv[2] (mixedfit's reported one), theta re-optimized;
#   limit_b0:  the edge with b's residual variance 0.
# Rscript edge_interior.R e5 0.12922106957211632 > edge_interior.json   (run in this folder)
# Rscript edge_interior.R e3 0.03244374139322155 > edge_interior_e3.json   (set e3, ratio 0.3: the edge's
#   ratio optimum interior and flat, mixedfit's edge optimizer stopped at 0.032, rv18 MEDIUM-2; ~75 s)
library(jsonlite)
args <- commandArgs(TRUE); name <- args[1]; ratio <- as.numeric(args[2]); edge <- 1
a0 <- c("specs.json", name, ".")
src <- readLines("../cov_rar1_stress/dense_stress3.R"); cut <- grep("^set.seed\\(11\\)", src)
commandArgs <- function(...) a0
eval(parse(text = src[1:(cut - 1)]))
set.seed(13)
starts <- list()
for (sd in c(0.3, 3, 30)) for (r in c(-0.5, 0.5, 0.9)) for (lr in c(-4, -1, 0)) starts[[length(starts) + 1]] <- c(rep(log(sd), nsd), cor_start(r), lr)
best <- list(value = Inf)
for (st in starts) { o <- one(fedge(edge), st); if (!is.null(o) && o$value < best$value) best <- o }
prof <- list(value = Inf)
for (st in starts) { o <- one(function(q) wrap(devb(q, edge, 1, ratio)), st[1:ng]); if (!is.null(o) && o$value < prof$value) prof <- o }
lim <- list(value = Inf)
for (st in starts) { o <- one(function(q) wrap(devb(q, edge, 1, 0)), st[1:ng]); if (!is.null(o) && o$value < lim$value) lim <- o }
cat(toJSON(list(name = name, edge = edge, edge_free_loglik = -best$value / 2, edge_free_ratio = exp(best$par[ng + 1]),
                profile_ratio = ratio, profile_loglik = -prof$value / 2,
                limit_b0_loglik = -lim$value / 2), digits = NA, auto_unbox = TRUE), "\n")
