# Issue 12, session 11 lane edge2: the estimates AT the phi -> +-1 edge of
#   mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", data, reml=,
#           residual=mf.AR1("occ", "Subject"))
# where the supremum is at the edge (rar1_s3 / rar1_s4 here, rar1_seed2 of ../cov_rar1_limit).
# The model at the edge written densely (no mixedfit code), as rar1_dense.R's devb:
#   V / sigma^2 = R(phi) + Z G Z' / sigma^2, phi = +-1 exactly (R(1) = 1 1', R(-1) its
#   alternating analogue: singular, but V is positive definite), G / sigma^2 = s s' * rho^|k - l|.
# From the stored optimum at the edge (rar1_<key>.json: best_s, best_rho, best_phi), the edge
# criterion is re-maximized over (log s, atanh rho) tightly (BFGS), then at that optimum:
# sigma^2 = r'V^-1 r / (n - p) (REML) or / n (ML), beta, SE = sqrt(diag(sigma^2 (X'V^-1X)^-1)),
# BLUPs b_i = G Z_i' V_i^-1 (y_i - X_i beta) per Subject (all 5 occf columns),
# conditional sds sqrt(diag(G - G Z_i' V_i^-1 Z_i G)), fitted values X beta + Z b, and the
# coefficients' Satterthwaite df with phi held at the edge (numDeriv, see below).
# Run from the repository root:
#   Rscript tests/reference/cov_rar1_edges/rar1_edge_estimates.R
#   -> tests/reference/cov_rar1_edges/edge_<key>_<REML|ML>.json
library(jsonlite)
edge_fit <- function(csv, ref_json, reml) {
  ref <- fromJSON(ref_json)
  phi <- ref$best_phi
  stopifnot(abs(phi) == 1)
  d <- read.csv(csv, stringsAsFactors = FALSE)
  n <- nrow(d); X <- cbind(1, d$x); y <- d$y; p <- ncol(X)
  subjects <- sort(unique(d$Subject))
  rows <- split(seq_len(n), factor(d$Subject, levels = subjects))
  parts <- function(s, rho) {
    G <- outer(s, s) * rho^abs(outer(1:5, 1:5, "-"))
    XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; logdet <- 0; Vs <- list()
    for (i in seq_along(rows)) {
      g <- rows[[i]]; k <- d$occ[g]
      Z <- diag(5)[k, , drop = FALSE]
      W <- phi^abs(outer(k, k, "-")) + Z %*% G %*% t(Z)
      C <- chol(W)
      Xw <- backsolve(C, X[g, , drop = FALSE], transpose = TRUE)
      yw <- backsolve(C, y[g], transpose = TRUE)
      XVX <- XVX + crossprod(Xw); XVy <- XVy + crossprod(Xw, yw); yVy <- yVy + sum(yw^2)
      logdet <- logdet + 2 * sum(log(diag(C)))
      Vs[[i]] <- list(W = W, Z = Z, g = g)
    }
    beta <- solve(XVX, XVy)
    r2 <- yVy - sum(XVy * beta)
    crit <- if (reml) {
      (n - p) * (1 + log(2 * pi * r2 / (n - p))) + logdet + as.numeric(determinant(XVX)$modulus)
    } else n * (1 + log(2 * pi * r2 / n)) + logdet
    list(crit = crit, beta = as.numeric(beta), XVX = XVX, r2 = r2, G = G, Vs = Vs,
         logdet = logdet)
  }
  f <- function(par) {
    v <- tryCatch(parts(exp(par[1:5]), tanh(par[6]))$crit, error = function(e) Inf)
    if (!is.finite(v)) 1e10 else v
  }
  par <- c(log(ref$best_s), atanh(ref$best_rho))
  for (i in 1:3) {
    o <- optim(par, f, method = "BFGS", control = list(maxit = 5000, reltol = 1e-16))
    par <- o$par
    o <- nlminb(par, f, control = list(iter.max = 5000, eval.max = 10000, rel.tol = 1e-15))
    par <- o$par
  }
  s <- exp(par[1:5]); rho <- tanh(par[6])
  P <- parts(s, rho)
  sigma2 <- P$r2 / (if (reml) n - p else n)
  vcov <- sigma2 * solve(P$XVX)
  blup <- matrix(0, length(rows), 5); condsd <- matrix(0, length(rows), 5)
  fitted <- numeric(n)
  for (i in seq_along(rows)) {
    v <- P$Vs[[i]]; g <- v$g
    r <- y[g] - X[g, , drop = FALSE] %*% P$beta
    GZ <- P$G %*% t(v$Z)
    blup[i, ] <- as.numeric(GZ %*% solve(v$W, r))
    condsd[i, ] <- sqrt(pmax(diag(sigma2 * (P$G - GZ %*% solve(v$W, t(GZ)))), 0))
    fitted[g] <- X[g, , drop = FALSE] %*% P$beta + v$Z %*% blup[i, ]
  }
  # Satterthwaite df of each coefficient at the edge (phi held at +-1, as lmerTest with the
  # variance parameters psi = (log sigma^2, log s, atanh rho); the df do not depend on psi's
  # parameterization): W = 2 H^-1 (H the Hessian of the unprofiled -2 l), Phi(psi) = Var(beta),
  # df_j = 2 Phi_jj^2 / (g' W g), g = d Phi_jj / d psi
  dev2 <- function(psi) {
    s2 <- exp(psi[1]); P <- parts(exp(psi[2:6]), tanh(psi[7]))
    m <- if (reml) n - p else n
    ld <- if (reml) as.numeric(determinant(P$XVX)$modulus) else 0
    m * log(2 * pi * s2) + P$logdet + ld + P$r2 / s2
  }
  phi_of <- function(psi) exp(psi[1]) * solve(parts(exp(psi[2:6]), tanh(psi[7]))$XVX)
  psi <- c(log(sigma2), par)
  H <- numDeriv::hessian(dev2, psi)
  W <- 2 * solve(H)
  J <- numDeriv::jacobian(function(q) as.numeric(phi_of(q)), psi)
  df <- sapply(seq_len(p), function(j) {
    g <- J[(j - 1) * p + j, ]
    2 * phi_of(psi)[j, j]^2 / as.numeric(t(g) %*% W %*% g)
  })
  sdev <- sqrt(sigma2) * s
  k <- length(P$beta) + 5 + 1 + 1  # beta, 5 sds, rho, sigma (phi fixed at the edge)
  list(reml = reml, phi = phi, loglik = -P$crit / 2, stored_loglik = ref$best_loglik,
       sigma = sqrt(sigma2), s = s, sd = sdev, rho = rho, beta = P$beta,
       se = sqrt(diag(vcov)), vcov = vcov, satterthwaite_df = df, subjects = subjects, blup = blup, condsd = condsd,
       fitted = fitted)
}
here <- "tests/reference/cov_rar1_edges"
cases <- list(
  list("s3", file.path(here, "rar1_s3.csv"), file.path(here, "rar1_s3_%s.json")),
  list("s4", file.path(here, "rar1_s4.csv"), file.path(here, "rar1_s4_%s.json")),
  list("seed2", "tests/reference/cov_rar1_limit/rar1_seed2.csv",
       "tests/reference/cov_rar1_limit/rar1_seed2_%s.json"))
for (cs in cases) for (reml in c(TRUE, FALSE)) {
  m <- if (reml) "REML" else "ML"
  out <- edge_fit(cs[[2]], sprintf(cs[[3]], m), reml)
  cat(cs[[1]], m, "phi", out$phi, "loglik", format(out$loglik, digits = 12),
      "stored", format(out$stored_loglik, digits = 12), "\n")
  write_json(out, file.path(here, sprintf("edge_%s_%s.json", cs[[1]], m)),
             digits = NA, auto_unbox = TRUE, pretty = TRUE)
}
