# cov_vi_order: Satterthwaite df of y ~ x + ar1(0 + occf | Subject, hom=FALSE) with residual AR1(occ | Subject) &
# VarIdent(grp) (strata a, b), ML (REML: s16), from first principles (the shared criterion tests/reference/limit_df/sat_dense.R,
# sourced), at R's dense optimum <name>_ML.json (<name>_REML.json) (<src>_par, <src>_fit: dense_stress3.R's multistart):
# phi free (src interior) or held at an edge (edge+1 / edge-1), a stratum's residual variance held at exactly 0
# (van a / b) or not (none). After reviewer rv21's sat_ar1vi.R / sat_hold.R (/tmp/p15/rv21, session 15).
# psi = (log sd_1..5 absolute, atanh rho, log sigma of each stratum not held, atanh phi if free); the df do not
# depend on this parameterization. Run from the repository root:
#   Rscript tests/reference/cov_vi_order/sat_order.R > tests/reference/cov_vi_order/sat.json
source("tests/reference/limit_df/sat_dense.R")
library(jsonlite)
here <- "tests/reference/cov_vi_order"
cases <- list(
  list(name = "m0", dir = here, src = "interior", van = "none"),    # rv21 F1: an ordinary interior fit
  list(name = "m1", dir = here, src = "interior", van = "b"),       # rv21 F2: interior, stratum b vanishing
  list(name = "m2", dir = here, src = "edge+1", van = "none"),      # the edge phi = 1, both strata kept
  list(name = "m3", dir = "tests/reference/cov_rar1_swapref", src = "edge-1", van = "a"),  # rv21 F3
  list(name = "m10", dir = "tests/reference/cov_rar1_swapref", src = "edge+1", van = "a"),  # as F3
  list(name = "s16", dir = here, src = "interior", van = "a", reml = TRUE))  # as F2, REML
one <- function(cs) {
  d <- read.csv(sprintf("%s/%s.csv", cs$dir, cs$name), stringsAsFactors = FALSE)
  reml <- isTRUE(cs$reml)
  r <- fromJSON(sprintf("%s/%s_%s.json", cs$dir, cs$name, if (reml) "REML" else "ML"))
  src <- cs$src; van <- cs$van
  q <- r[[paste0(src, "_par")]]; sig <- r[[paste0(src, "_fit")]]$sigma  # sigma: a's sd; b's = sigma * exp(q[7])
  free <- src == "interior"; e <- if (free) NA else as.numeric(sub("edge", "", src))
  Lag <- abs(outer(1:5, 1:5, "-"))
  lsig <- c(a = log(sig), b = log(sig) + q[7]); keep <- setdiff(c("a", "b"), van)
  start <- c(q[1:5] + log(sig), q[6], lsig[keep], if (free) q[8])
  Vfun <- function(psi, rows) {
    s <- exp(psi[1:5]); G <- outer(s, s) * tanh(psi[6])^Lag
    g <- d$grp[rows[1]]; sv <- if (g %in% keep) exp(psi[6 + match(g, keep)]) else 0
    ph <- if (free) tanh(psi[7 + length(keep)]) else e
    k <- d$occ[rows]
    G[k, k, drop = FALSE] + sv^2 * ph^abs(outer(k, k, "-"))
  }
  f <- sat_fit(cbind(1, d$x), d$y, d$Subject, Vfun, start, reml = reml)
  list(reml = reml, src = src, vanished = van, loglik = -f$opt$objective / 2, R_value = r[[src]], psi = f$psi,
       beta = f$beta, se = sqrt(diag(f$vcov)), df = f$df)
}
out <- lapply(cases, one)
names(out) <- sapply(cases, `[[`, "name")
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "\n")
