# Issue 12 (lane lows28, session 18): h8 (REML) with group a's residual variance at exactly 0, so its phi is not in
# the model (not identified: the fit reports it NaN), maximized over the rest from R's best of h8_by_REML.json, and
# the Satterthwaite df of (Intercept), x there (sat_df_at of ../limit_df/sat_dense.R, numDeriv's Hessian of the
# unprofiled REML deviance in the free parameters: log sd of G (K = 5), atanh rho, log residual sd of b, c and
# atanh phi of b, c). The by= model of by_dense.R with sd_a = 0 (V of a's subjects = G[k, k]).
# Run in this directory: Rscript h8_vanished_sat.R > h8_vanished_sat.json
source("../limit_df/sat_dense.R"); library(jsonlite)
d <- read.csv("h8.csv", stringsAsFactors = FALSE); K <- 5
best <- fromJSON("h8_by_REML.json")$best_point
lv <- sort(unique(d$grp)); gi <- match(d$grp, lv)  # a, b, c
X <- cbind(1, d$x); blocks <- split(seq_len(nrow(d)), d$Subject)
Vfun <- function(psi, rows) {
  s <- exp(psi[1:K]); G <- outer(s, s) * tanh(psi[K + 1])^abs(outer(1:K, 1:K, "-"))
  k <- d$occ[rows]; g <- gi[rows[1]]
  if (g == 1) return(G[k, k, drop = FALSE])  # a: no residual variance
  sd <- exp(psi[K + g]); ph <- tanh(psi[K + 2 + g])  # b, c: psi[K + 2:3] log sd, psi[K + 4:5] atanh phi
  G[k, k, drop = FALSE] + sd^2 * ph^abs(outer(k, k, "-"))
}
dev <- sat_deviance(sat_pieces(X, d$y, blocks, Vfun), nrow(d), ncol(X), TRUE)
f <- function(psi) { v <- tryCatch(dev(psi), error = function(e) Inf); if (is.finite(v)) v else 1e10 }
st <- c(log(best$sd), atanh(best$rho), log(best$rsd[2:3]), atanh(best$phi[2:3]))
o3 <- nlminb(st, f, control = list(iter.max = 2000, eval.max = 4000, rel.tol = 1e-13))
o1 <- optim(o3$par, f, method = "BFGS", control = list(maxit = 2000, reltol = 1e-15))
b <- if (o1$value < o3$objective) list(par = o1$par, value = o1$value) else list(par = o3$par, value = o3$objective)
vc <- function(p) solve(sat_pieces(X, d$y, blocks, Vfun)(p)$XtVX)
res <- list(method = "REML", start_loglik = -f(st) / 2, loglik = -b$value / 2, psi = b$par,
            phi = tanh(b$par[K + 4:5]), rsd = exp(b$par[K + 2:3]), sat_df = sat_df_at(f, vc, b$par)$df,
            vcov = vc(b$par))
cat(toJSON(res, digits = NA, auto_unbox = TRUE), "\n")
