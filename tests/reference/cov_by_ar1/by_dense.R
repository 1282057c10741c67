# Issue 12 (lane byar1): the REML/ML log-likelihood of y ~ x + ar1(0 + occf | Subject, hom=False) with the residual
# AR1("occ", "Subject", by = "grp") (SAS GROUP=: a phi and a residual sd per group), from first principles
# (sat_pieces/sat_deviance of ../limit_df/sat_dense.R, sourced; V per subject = G[k,k] + sd_g^2 phi_g^|k_i-k_j|),
# at given points and maximized by an nlminb + BFGS multistart (incl. the given points).
# psi = (log sd_1..K of G, atanh rho, log residual sd per group (sorted levels), atanh phi per group).
# Run in this directory: Rscript by_dense.R data.csv points.json reml(0/1) [K] [hold] > out.json
# hold (lane byedge): groups' phi held at an edge, e.g. "b:-1,c:1" (atanh = +-Inf, tanh = +-1 exactly in V); the
# other parameters maximized. A start's infinite entry (a point's phi = +-1) becomes +-5. Without hold: as before.
# sat (lane byedge2): a 6th argument "sat" adds the Satterthwaite df of (Intercept), x at the best point (sat_df_at
# of ../limit_df/sat_dense.R: numDeriv's Hessian of the unprofiled deviance in the free parameters, the held phi
# fixed at their edge) as res$sat_df.
source("../limit_df/sat_dense.R"); library(jsonlite)
a <- commandArgs(TRUE); d <- read.csv(a[1], stringsAsFactors = FALSE); pts <- fromJSON(a[2], simplifyVector = FALSE)
reml <- a[3] == "1"; K <- if (length(a) > 3) as.integer(a[4]) else 5
lv <- sort(unique(d$grp)); L <- length(lv); gi <- match(d$grp, lv)
hold <- if (length(a) > 4 && nzchar(a[5])) sapply(strsplit(strsplit(a[5], ",")[[1]], ":"), function(h)
  setNames(as.numeric(h[2]), h[1])) else numeric(0)
X <- cbind(1, d$x); blocks <- split(seq_len(nrow(d)), d$Subject)
Vfun <- function(psi, rows) {
  s <- exp(psi[1:K]); G <- outer(s, s) * tanh(psi[K + 1])^abs(outer(1:K, 1:K, "-"))
  k <- d$occ[rows]; g <- gi[rows[1]]; sd <- exp(psi[K + 1 + g]); ph <- tanh(psi[K + 1 + L + g])
  G[k, k, drop = FALSE] + sd^2 * ph^abs(outer(k, k, "-"))
}
dev <- sat_deviance(sat_pieces(X, d$y, blocks, Vfun), nrow(d), ncol(X), reml)
f0 <- function(psi) { v <- tryCatch(dev(psi), error = function(e) Inf); if (is.finite(v)) v else 1e10 }
hi <- K + 1 + L + match(names(hold), lv); free <- setdiff(seq_len(K + 1 + 2 * L), hi)
full <- function(p) { psi <- numeric(K + 1 + 2 * L); psi[hi] <- hold * Inf; psi[free] <- p; psi }
f <- if (length(hold)) function(p) f0(full(p)) else f0
res <- list(method = if (reml) "REML" else "ML", levels = lv, at = list())
if (length(hold)) res$hold <- as.list(hold)
psi_at <- function(p) c(log(unlist(p$sd)), atanh(p$rho), log(unlist(p$rsd)), atanh(unlist(p$phi)))
for (nm in names(pts)) res$at[[nm]] <- list(dense = -f0(psi_at(pts[[nm]])) / 2, mixedfit = pts[[nm]]$loglik)
one <- function(st) {
  o3 <- nlminb(st, f, control = list(iter.max = 2000, eval.max = 4000, rel.tol = 1e-13))
  o1 <- optim(o3$par, f, method = "BFGS", control = list(maxit = 2000, reltol = 1e-15))
  if (o1$value < o3$objective) list(par = o1$par, value = o1$value) else list(par = o3$par, value = o3$objective)
}
set.seed(12)
base <- psi_at(pts[[1]]); starts <- lapply(pts, psi_at)
for (ph in c(-0.8, -0.4, 0.4, 0.8)) for (sd in c(0.1, 0.5)) {
  st <- base; st[K + 1 + 1:L] <- log(sd); st[K + 1 + L + 1:L] <- atanh(ph); starts[[length(starts) + 1]] <- st
}
for (i in 1:4) { st <- base; st[K + 1 + 1:L] <- log(0.3) + rnorm(L, 0, 1); st[K + 1 + L + 1:L] <- rnorm(L, 0, 1)
  starts[[length(starts) + 1]] <- st }
starts <- lapply(starts, function(st) { st[is.infinite(st)] <- 5 * sign(st[is.infinite(st)]); st[free] })
runs <- lapply(starts, one); vals <- sapply(runs, function(o) o$value); b <- runs[[which.min(vals)]]
res$starts <- c(names(pts), rep("grid", 8), rep("random", 4)); res$local <- -vals / 2
res$best <- -b$value / 2; res$best_psi <- b$par; if (length(hold)) b$par <- full(b$par)
res$best_point <- list(sd = exp(b$par[1:K]), rho = tanh(b$par[K + 1]), rsd = exp(b$par[K + 1 + 1:L]),
                       phi = tanh(b$par[K + 1 + L + 1:L]))
if (length(a) > 5 && a[6] == "sat") {
  vc <- function(p) solve(sat_pieces(X, d$y, blocks, Vfun)(if (length(hold)) full(p) else p)$XtVX)
  res$sat_df <- sat_df_at(f, vc, res$best_psi)$df
}
cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
