# cov_edge_vanish (session 13, lane c26b): the REML criterion -2 l at one given point of the model
# (the reviewer's dense criterion, ../cov_rar1_stress/dense_stress3.R, sourced and cut before its
# multistart): rv15 ar1vi seed 3's flagged interior fit, whose whitened factor and cross products
# differ by 2e-7 there (conditioning 1.1e7), so that its saved file was refused on reload.
# Rscript criterion_at.R ar1vi3 ar1vi3_point.json > ar1vi3_point_REML.json
args <- commandArgs(TRUE); name <- args[1]; at <- jsonlite::fromJSON(args[2])
a0 <- c("specs.json", name, ".")
src <- readLines("../cov_rar1_stress/dense_stress3.R"); cut <- grep("^set.seed\\(11\\)", src)
commandArgs <- function(...) a0
eval(parse(text = src[1:(cut - 1)]))
th <- at$theta; q <- c(log(th[1:nsd]), atanh(th[nsd + 1]))  # ar1het: sds relative to sigma, rho
G <- outer(th[1:nsd], th[1:nsd]) * th[nsd + 1]^abs(outer(1:nsd, 1:nsd, "-"))
stopifnot(max(abs(Gof(q) - G)) <= 1e-14 * max(abs(G)))
value <- devb(q, at$Phi, 1, at$ratio)
fit <- devb(q, at$Phi, 1, at$ratio, out = TRUE)
res <- list(name = name, method = if (reml) "REML" else "ML", theta = at$theta, phi = at$phi,
            Phi = at$Phi, ratio = at$ratio, objective = value, loglik = -value / 2,
            beta = fit$beta, sigma = fit$sigma)
cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
