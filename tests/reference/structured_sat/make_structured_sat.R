# Satterthwaite df of fits with structured random-effects terms (ar1, cs(hom = FALSE), toep;
# one with a residual VarIdent) on sleepstudy, by a dense R computation independent of mixedfit
# (mixedfit issue 12, lane covsat).
#
# For each model: V(psi, sigma) = sigma^2 (Z G1(psi) Z' + R1(delta)) built densely (per subject block),
# G1 = D P D the term's relative covariance (D = diag of relative sds s, P the structure's
# correlation matrix: ar1 rho^|i-j|, cs rho off the diagonal, toep lag correlations from partial
# autocorrelations by Durbin-Levinson; toep(0 + f | Subject) of 3 or 4 columns goes to a partial
# autocorrelation of -1 or 1 on sleepstudy, a boundary fit, and toep(0 + Daysf | Subject, hom)
# has several local optima there, so toep is covered on simulated sleepstudy-like data,
# tests/data/cov/structured_sat_toep.csv, written by this script: 40 subjects x 12 days, four
# periods of 3 days with heterogeneous Toeplitz period effects), R1 = I or diag(delta^2 for half == "late");
# REML deviance d = log|V| + log|X'V^-1 X| + r'V^-1 r + (n - p) log(2 pi) (GLS residuals r).
# The estimates: nlminb on the profiled REML criterion in unconstrained coordinates from several
# starts, polished by Newton steps on the numDeriv gradient/Hessian until |grad| < 1e-7.
# Satterthwaite as lmerTest: varpar = (psi, [delta,] sigma) -- mixedfit's parameters of the
# term (relative sds, correlations / partial autocorrelations in their box) followed by sigma;
# A = 2 H^-1 with H = numDeriv::hessian (Richardson, r = 4, relative step d = 0.03: numDeriv's
# default d = 0.1 is 2e-5 off for a correlation near 1, whose singularity at 1 is then within
# reach of the first steps) of d; g the numDeriv jacobian (Richardson) of l' Phi l,
# Phi = sigma^2 (X'V1^-1 X)^-1; df = 2 (l'Phi l)^2 / g'Ag.
# As a check the df are recomputed in a second parameterization (log s, atanh of correlations in
# their box, log delta, log sigma; d = 0.1) and with d = 0.01: df_alt / df_small_step agree with
# df to ~1e-7 (invariance at the optimum; printed when the script runs).
# glmmTMB 1.1.5 REML fits (where its structure is the same: ar1, cs heterogeneous) are stored as
# a check of the optimum (loglik_glmmTMB; on ar1_daysf from the start values of
# tests/reference/cov/sleepstudy_tmb_ar1_reml.json: from its default start glmmTMB stops at
# -841.58).
# Run from the repository root:  Rscript tests/reference/structured_sat/make_structured_sat.R
suppressMessages({library(jsonlite); library(numDeriv); library(Matrix)})
here <- "tests/reference/structured_sat"
sch <- fromJSON("tests/data/cov/schema.json")$sleepstudy
d <- read.csv(file.path("tests/data/cov", sch$file), stringsAsFactors = FALSE)
for (f in names(sch$factors)) d[[f]] <- factor(as.character(d[[f]]), levels = sch$factors[[f]])
d$half <- factor(ifelse(d$Days < 5, "early", "late"))
d$f <- factor(as.character(cut(d$Days, c(-1, 2, 5, 9), labels = c("a", "b", "c"))))
pacf_to_acf <- function(pacf) {
  rho <- 1; phi <- numeric(0)
  for (p in pacf) {
    m <- length(phi) + 1
    past <- rho[-1]
    r <- if (m > 1) sum(phi * rev(past)) + p * (1 - sum(phi * past)) else p
    rho <- c(rho, r); phi <- c(phi - p * rev(phi), p)
  }
  rho
}
corr_of <- function(kind, k, cor) {
  lag <- abs(outer(1:k, 1:k, "-"))
  switch(kind,
    ar1 = cor^lag,
    cs = { P <- matrix(cor, k, k); diag(P) <- 1; P },
    toep = matrix(pacf_to_acf(cor)[lag + 1], k, k))
}
lower_cor <- function(kind, k) if (kind == "cs") -1 / (k - 1) else -1

# model: X, y and per subject the rows, Z_i (rows x k) and the VarIdent indicator; par = c(psi, [delta])
make_model <- function(fixed, col, kind, hom, varident, d, resp) {
  n <- nrow(d)
  X <- model.matrix(fixed, d)
  fac <- d[[col]]; k <- nlevels(fac)
  rows <- split(seq_len(n), d$Subject)
  Zs <- lapply(rows, function(r) { z <- matrix(0, length(r), k); z[cbind(seq_along(r), as.integer(fac[r]))] <- 1; z })
  nsd <- if (hom) 1 else k
  ncor <- if (kind == "toep") k - 1 else 1
  list(X = X, rows = rows, Zs = Zs, kind = kind, k = k, nsd = nsd, ncor = ncor,
       varident = varident, y = d[[resp]], n = n, late = d$half == "late")
}
G1_of <- function(m, par) {
  s <- par[seq_len(m$nsd)]; s <- if (m$nsd == 1) rep(s, m$k) else s
  cor <- par[m$nsd + seq_len(m$ncor)]
  diag(s, m$k) %*% corr_of(m$kind, m$k, cor) %*% diag(s, m$k)
}
# V1 = Z G1 Z' + R1 is block diagonal by subject: each block built densely
gls_parts <- function(m, par) {
  G1 <- G1_of(m, par); p <- ncol(m$X)
  A <- matrix(0, p, p); b <- numeric(p); yy <- 0; ld <- 0
  for (i in seq_along(m$rows)) {
    r <- m$rows[[i]]; Z <- m$Zs[[i]]
    R1 <- if (m$varident) diag(ifelse(m$late[r], par[m$nsd + m$ncor + 1]^2, 1), length(r)) else diag(length(r))
    C <- chol(Z %*% G1 %*% t(Z) + R1)
    Xt <- backsolve(C, m$X[r, , drop = FALSE], transpose = TRUE)
    yt <- backsolve(C, m$y[r], transpose = TRUE)
    A <- A + crossprod(Xt); b <- b + drop(crossprod(Xt, yt)); yy <- yy + sum(yt^2)
    ld <- ld + 2 * sum(log(diag(C)))
  }
  beta <- solve(A, b)
  list(logdetV1 = ld, A = A, beta = drop(beta), rss = yy - sum(b * beta))
}
# REML deviance in (par, sigma)
deviance <- function(m, vp) {
  k <- length(vp); sigma <- vp[k]; par <- vp[-k]; p <- ncol(m$X)
  g <- gls_parts(m, par)
  g$logdetV1 + as.numeric(determinant(g$A)$modulus) + (m$n - p) * log(2 * pi * sigma^2) + g$rss / sigma^2
}
profiled <- function(m, par) {
  p <- ncol(m$X); g <- gls_parts(m, par); s2 <- g$rss / (m$n - p)
  g$logdetV1 + as.numeric(determinant(g$A)$modulus) + (m$n - p) * (log(2 * pi * s2) + 1)
}
sigma_hat <- function(m, par) sqrt(gls_parts(m, par)$rss / (m$n - ncol(m$X)))
vcov_beta <- function(m, vp) { k <- length(vp); vp[k]^2 * solve(gls_parts(m, vp[-k])$A) }

# unconstrained coordinates u <-> par
to_par <- function(m, u) {
  low <- lower_cor(m$kind, m$k); i <- m$nsd + seq_len(m$ncor)
  par <- u; par[seq_len(m$nsd)] <- exp(u[seq_len(m$nsd)])
  par[i] <- low + (1 - low) * (tanh(u[i]) + 1) / 2
  if (m$varident) par[m$nsd + m$ncor + 1] <- exp(u[m$nsd + m$ncor + 1])
  par
}
to_u <- function(m, par) {
  low <- lower_cor(m$kind, m$k); i <- m$nsd + seq_len(m$ncor)
  u <- par; u[seq_len(m$nsd)] <- log(par[seq_len(m$nsd)])
  u[i] <- atanh(2 * (par[i] - low) / (1 - low) - 1)
  if (m$varident) u[m$nsd + m$ncor + 1] <- log(par[m$nsd + m$ncor + 1])
  u
}
fit_dense <- function(m, starts) {
  best <- NULL
  for (st in starts) {
    o <- nlminb(to_u(m, st), function(u) profiled(m, to_par(m, u)),
                control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 5000, iter.max = 2000))
    if (is.null(best) || o$objective < best$objective) best <- o
  }
  u <- best$par
  for (it in 1:20) {  # Newton polish in u
    gr <- grad(function(u) profiled(m, to_par(m, u)), u)
    if (max(abs(gr)) < 1e-7) break
    H <- hessian(function(u) profiled(m, to_par(m, u)), u)
    u <- u - solve(H, gr)
  }
  par <- to_par(m, u)
  vp <- c(par, sigma_hat(m, par))
  list(par = par, vp = vp, objective = profiled(m, par),
       grad_max = max(abs(grad(function(v) deviance(m, v), vp))))
}
satt <- function(m, vp, L, d_hess = 0.1, map = identity, inv = identity) {
  # derivatives in w = map(vp); vp = inv(w)
  w <- map(vp)
  H <- hessian(function(w) deviance(m, inv(w)), w, method.args = list(d = d_hess, r = 4))
  A <- 2 * solve(H)
  Phi <- vcov_beta(m, vp)
  sapply(seq_len(nrow(L)), function(j) {
    l <- L[j, ]
    g <- jacobian(function(w) drop(t(l) %*% vcov_beta(m, inv(w)) %*% l), w)
    2 * drop(t(l) %*% Phi %*% l)^2 / drop(g %*% A %*% t(g))
  })
}
alt_maps <- function(m, vp) {
  k <- length(vp); low <- lower_cor(m$kind, m$k); i <- m$nsd + seq_len(m$ncor)
  logi <- setdiff(seq_len(k), i)
  map <- function(v) { w <- v; w[logi] <- log(v[logi]); w[i] <- atanh(2 * (v[i] - low) / (1 - low) - 1); w }
  inv <- function(w) { v <- w; v[logi] <- exp(w[logi]); v[i] <- low + (1 - low) * (tanh(w[i]) + 1) / 2; v }
  list(map = map, inv = inv)
}

run <- function(id, python, fixed, col, kind, hom, varident, starts, contrast, tmb = NULL,
                data = d, resp = "Reaction") {
  m <- make_model(fixed, col, kind, hom, varident, data, resp)
  f <- fit_dense(m, starts)
  p <- ncol(m$X); L <- rbind(diag(p), contrast)
  df <- satt(m, f$vp, L, d_hess = 0.03)
  mp <- alt_maps(m, f$vp)
  df_alt <- satt(m, f$vp, L, map = mp$map, inv = mp$inv)
  df_small <- satt(m, f$vp, L, d_hess = 0.01)
  gp <- gls_parts(m, f$par)
  se <- sqrt(diag(vcov_beta(m, f$vp)))
  ll_tmb <- NULL
  if (!is.null(tmb)) ll_tmb <- tryCatch(as.numeric(logLik(eval(tmb))), error = function(e) NULL)
  out <- list(id = id, python = python, model = deparse(fixed), structure = kind, hom = hom,
              varident_half = varident,
              par = f$par, sigma = f$vp[length(f$vp)], loglik = -f$objective / 2,
              loglik_glmmTMB = ll_tmb, grad_max = f$grad_max,
              beta = setNames(as.list(gp$beta), colnames(m$X)),
              se = setNames(as.list(se), colnames(m$X)),
              df = setNames(as.list(df[1:p]), colnames(m$X)),
              contrast = setNames(as.list(contrast), colnames(m$X)),
              df_contrast = df[p + 1],
              df_alt = df_alt, df_small_step = df_small,
              engine = paste0("dense R (numDeriv ", packageVersion("numDeriv"), ", ", R.version.string, ")"))
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, paste0(id, ".json")))
  cat(id, "loglik", out$loglik, "grad", f$grad_max, "df", signif(df, 8), "\n",
      "  rel alt", signif(max(abs(df_alt / df - 1)), 3), "small", signif(max(abs(df_small / df - 1)), 3), "\n")
}

if (nzchar(Sys.getenv("STRUCTURED_SAT_LIB"))) stop("library only")
suppressMessages(library(glmmTMB))
daysf <- c(0, 0, 0, 0, 0, -1, 0, 0, 0, 1)
# simulated sleepstudy-like data for toep: 40 subjects x 12 days, 4 periods of 3 days
set.seed(12)
sim <- expand.grid(Days = 0:11, Subject = sprintf("S%02d", 1:40))
sim$period <- factor(paste0("p", sim$Days %/% 3 + 1))
acf <- c(1, 0.6, 0.35, 0.1); sds <- c(25, 30, 35, 40)
Gt <- diag(sds) %*% matrix(acf[abs(outer(1:4, 1:4, "-")) + 1], 4, 4) %*% diag(sds)
b <- matrix(rnorm(40 * 4), 40, 4) %*% chol(Gt)
sim$y <- round(250 + 10 * sim$Days + b[cbind(as.integer(sim$Subject), as.integer(sim$period))] +
  rnorm(nrow(sim), 0, 20), 4)
write.csv(sim[c("y", "Days", "Subject", "period")], "tests/data/cov/structured_sat_toep.csv", row.names = FALSE)
run("ar1_daysf", list(formula = "Reaction ~ Daysf + ar1(0 + Daysf | Subject)"),
    ~ Daysf, "Daysf", "ar1", TRUE, FALSE, list(c(3.2, 0.88), c(1, 0.3)), daysf,
    quote(glmmTMB(Reaction ~ Daysf + ar1(0 + Daysf | Subject), data = d, REML = TRUE,
                  start = list(theta = c(log(40), 1), betad = log(200)))))
run("ar1_f", list(formula = "Reaction ~ Days + ar1(0 + f | Subject)"),
    ~ Days, "f", "ar1", TRUE, FALSE, list(c(1, 0.5), c(2, 0.9)), c(1, 5),
    quote(glmmTMB(Reaction ~ Days + ar1(0 + f | Subject), data = d, REML = TRUE)))
run("cs_f", list(formula = "Reaction ~ Days + cs(0 + f | Subject)"),
    ~ Days, "f", "cs", FALSE, FALSE, list(c(1, 1, 1, 0.5), c(2, 2, 2, 0.8)), c(1, 5),
    quote(glmmTMB(Reaction ~ Days + cs(0 + f | Subject), data = d, REML = TRUE)))
run("toep_sim", list(formula = "y ~ Days + toep(0 + period | Subject)", data = "structured_sat_toep.csv"),
    ~ Days, "period", "toep", FALSE, FALSE, list(c(1, 1, 1, 1, 0.5, 0, 0), c(2, 2, 2, 2, 0.3, 0.1, 0.1)),
    c(1, 5), data = sim, resp = "y")
run("ar1_f_varident", list(formula = "Reaction ~ Days + ar1(0 + f | Subject)", residual = "VarIdent(half)"),
    ~ Days, "f", "ar1", TRUE, TRUE, list(c(1, 0.5, 1), c(2, 0.9, 1.5)), c(1, 5))
