# cov_edge_vanish (session 13, lane c26): the supremum of the phi = +-1 edge of an AR(1) residual
# beside ar1(0 + occf | Subject, hom=False) with VarIdent(grp) where a stratum's residual variance
# vanishes there: the edge model with that stratum's residual variance exactly 0 (a limit model,
# V = Z G Z' + sigma^2 D R(+-1) D with D = 0 on the stratum's rows), and the edge with the
# stratum's sd ratio held at 1e-3, 1e-5, 1e-7 (theta re-optimized from the limit's): it rises to the
# limit's value. The one copy of the reviewer's dense criterion
# (../cov_rar1_stress/dense_stress3.R) is sourced, cut before its multistart.
# Rscript edge_vanish.R c26 +1 b       -> c26_REML.json     (stratum b vanishes at phi = +1)
# Rscript edge_vanish.R ar1vi3 -1 a    -> ar1vi3_REML.json  (stratum a, the reference, at phi = -1)
args <- commandArgs(TRUE); name <- args[1]; edge <- as.numeric(args[2]); gone <- args[3]
a0 <- c("specs.json", name, ".")
src <- readLines("../cov_rar1_stress/dense_stress3.R"); cut <- grep("^set.seed\\(11\\)", src)
commandArgs <- function(...) a0
eval(parse(text = src[1:(cut - 1)]))
# the criterion's `ratio` multiplies stratum "b"'s residual sd; to let stratum a vanish, swap the roles
# (the likelihood is the same: sigma becomes b's sd, the ratio a's sd relative to it)
if (gone == "a") groups <- lapply(groups, function(g) { g$b <- !g$b; g })
set.seed(13)
starts <- list()
for (sd in c(0.3, 3, 30)) for (r in c(-0.5, 0.5, 0.9)) starts[[length(starts) + 1]] <- c(rep(log(sd), nsd), cor_start(r))
for (i in 1:6) starts[[length(starts) + 1]] <- c(rnorm(nsd, 1, 1.5), rnorm(ncor, 0, 1))
fit_best <- function(f, starts) {
  best <- list(value = Inf)
  for (st in starts) { o <- one(f, st); if (!is.null(o) && o$value < best$value) best <- o }
  o <- one(f, best$par); if (!is.null(o) && o$value < best$value) best <- o
  best
}
# the limit: the stratum's residual variance 0 at the edge
f0 <- function(q) wrap(devb(q, edge, 1, 0))
lim <- fit_best(f0, starts)
fit0 <- devb(lim$par, edge, 1, 0, out = TRUE)
# the limit approached: the edge with the stratum's ratio 1e-3, 1e-5, 1e-7 (theta re-optimized)
along <- sapply(c(1e-3, 1e-5, 1e-7), function(r) -fit_best(function(q) wrap(devb(q, edge, 1, r)), list(lim$par))$value / 2)
G <- Gof(lim$par) * fit0$sigma^2
res <- list(name = name, method = if (reml) "REML" else "ML", edge = edge, vanished = gone,
            loglik = -lim$value / 2, beta = fit0$beta, sigma_kept = fit0$sigma,
            G = G, term_sd = sqrt(diag(G)), q = lim$par,
            along_ratio = c(1e-3, 1e-5, 1e-7), along_loglik = along)
cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
