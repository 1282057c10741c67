# 2 (l_max - l_prof) of the FITTED model (sigma >= 0 free) at mixedfit's profile interval ends
# (prof_full_ends2_in.json, copied from mixedfit's confint(method = "profile")) for toep (7
# parameters), ar1hi, Oxboys arh1 (10 parameters) and vec (ar1hi with (1 + t|subject) nested):
# must be qchisq(0.95, 1) = 3.841459 at an end inside the parameter space, below it at an sd's
# lower end of 0 (evaluated at 0). An end on the boundary of a correlation (exactly 1: the profile
# never reaches the quantile) is evaluated AT 1 itself (the model is regular there with sigma > 0:
# V = D R D + sigma^2 I, R singular) and at 1 - 1e-4, 1 - 1e-2 (likewise -1): all must stay below
# the quantile.
# V per subject (blocked): the structured term (+ the nested random intercept of ar1hi) plus
# sigma^2 I; ML deviance, beta profiled out. At each value the better of the limit model's
# optimum (sigma = 0) and interior ones (log sigma free), by nlminb from many starts: the ML
# estimate, a grid (ar1hi: over prof_ml.R's; arh1: rho and a common sd scale) or seeded random
# starts (toep); the three best limit optima found are followed with sigma free from several sigmas.
# Run (in this directory): Rscript prof_full_ends2.R [cases] -> prof_full_ends2.json
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
only <- if (length(args)) args else c("toep", "ar1hi", "vec")
ends_in <- fromJSON("prof_full_ends2_in.json", simplifyVector = FALSE)
to_nat <- function(u, kind) ifelse(kind == "sd", exp(u), tanh(u))
to_u <- function(v, kind) ifelse(kind == "sd", log(v), atanh(v))
pacf_to_acf <- function(pi) {  # Durbin-Levinson: lag correlations 1..m from the pacf
  m <- length(pi); phi <- numeric(0); r <- numeric(m)
  for (j in seq_len(m)) {
    new <- c(phi - pi[j] * rev(phi), pi[j])
    r[j] <- if (j == 1) pi[1] else sum(phi * r[(j - 1):1]) + pi[j] * (1 - sum(phi * r[seq_len(j - 1)]))
    phi <- new
  }
  r
}
ctl <- list(iter.max = 3000, eval.max = 6000, rel.tol = 1e-13)
nl <- function(s, f) tryCatch(nlminb(s, f, control = ctl), error = function(e) list(objective = Inf, par = s))
ml_dev <- function(X, y, pos, subj, Vfun) {  # ML deviance at natural parameters and sigma
  idx <- split(seq_along(y), subj); n <- length(y); p <- ncol(X)
  key <- sapply(idx, function(i) paste(pos[i], collapse = ","))
  pats <- lapply(split(idx, key), function(g) {  # subjects sharing their positions: one V
    i1 <- g[[1]]; list(pos = pos[i1], n = length(g),
      Y = sapply(g, function(i) y[i]), XX = do.call(cbind, lapply(g, function(i) X[i, , drop = FALSE])))
  })
  function(par, sg) {
    A <- matrix(0, p, p); b <- numeric(p); ld <- 0; yy <- 0
    for (P in pats) {
      V <- Vfun(par, P$pos); diag(V) <- diag(V) + sg^2
      L <- tryCatch(chol(V), error = function(e) NULL); if (is.null(L)) return(1e10)
      Yw <- backsolve(L, P$Y, transpose = TRUE); Xw <- backsolve(L, P$XX, transpose = TRUE)
      Yw <- matrix(Yw, ncol = P$n); Xw <- matrix(Xw, ncol = p * P$n)
      for (g in seq_len(P$n)) {
        xg <- Xw[, (g - 1) * p + seq_len(p), drop = FALSE]
        A <- A + crossprod(xg); b <- b + crossprod(xg, Yw[, g])
      }
      yy <- yy + sum(Yw^2); ld <- ld + P$n * 2 * sum(log(diag(L)))
    }
    R <- tryCatch(chol(A), error = function(e) NULL); if (is.null(R)) return(1e10)
    z <- backsolve(R, b, transpose = TRUE)
    v <- ld + yy - sum(z^2) + n * log(2 * pi)
    if (is.finite(v)) v else 1e10
  }
}
check_case <- function(case, dev, kind, u0, names, starts, sig, sing) {
  m <- length(kind)
  flim <- function(u) dev(to_nat(u, kind), 0)
  # the better of the limit optimum and interior ones, the m-th... entries of u held per `fix`
  best_at <- function(fix_j, fix_v, starts) {
    put <- function(w) { if (!length(fix_j)) return(w); u <- numeric(m); u[-fix_j] <- w; u }
    nat <- function(w) { v <- to_nat(put(w), kind); if (length(fix_j)) v[fix_j] <- fix_v; v }
    fl <- function(w) dev(nat(w), 0)
    ff <- function(w) dev(nat(w[-length(w)]), exp(w[length(w)]))
    sols <- lapply(starts, function(s) nl(if (length(fix_j)) s[-fix_j] else s, fl))
    fl_best <- min(sapply(sols, function(o) o$objective))
    if (length(fix_j) && fix_j %in% sing && abs(fix_v) == 1) fl_best <- Inf  # V singular at sigma 0
    ff_best <- Inf; sg_best <- NA
    objs <- sapply(sols, function(o) o$objective)
    for (o in sols[order(objs)[seq_len(min(3, length(sols)))]]) for (ls in log(sig)) {
      f2 <- nl(c(o$par, ls), ff)
      if (f2$objective < ff_best) { ff_best <- f2$objective; sg_best <- exp(f2$par[length(f2$par)]) }
    }
    list(dev = min(fl_best, ff_best), limit = fl_best, interior = ff_best, sigma = sg_best,
      par = sols[[which.min(sapply(sols, function(o) o$objective))]]$par)
  }
  top <- best_at(integer(0), NULL, c(list(u0), starts))
  d0 <- top$dev; uhat <- top$par
  cat(sprintf("  ML loglik %.10f (limit %.10f, interior %.10f, sigma %.3g)\n", -d0 / 2, -top$limit / 2,
    -top$interior / 2, top$sigma))
  out <- list(loglik_ml = -d0 / 2)
  all_starts <- c(list(uhat), starts)
  for (j in seq_along(names)) {
    at <- unlist(ends_in[[case]][[names[j]]])
    vals <- at; tags <- c("lower", "upper")
    for (side in 1:2) if (kind[j] == "cor" && abs(at[side]) == 1) {  # the profile up to the bound
      vals <- c(vals, at[side] * (1 - 1e-2), at[side] * (1 - 1e-4))
      tags <- c(tags, paste0(c("lower_", "")[side], c("at_1e-2", "at_1e-4")))
    }
    res <- list(ends = at)
    for (k in seq_along(vals)) {
      v <- vals[k]
      b <- best_at(j, v, all_starts)
      res[[tags[k]]] <- list(value = v, twice_dl = b$dev - d0, sigma = if (b$interior < b$limit) b$sigma else 0)
      cat(sprintf("  %s %s = %.10f: 2 dl %.6f (sigma %.4g)\n", names[j], tags[k], v, b$dev - d0,
        res[[tags[k]]]$sigma))
    }
    out[[names[j]]] <- res
  }
  out
}
set.seed(20261207)
res <- list()
if ("toep" %in% only) {  # toep(0 + tf|subject), hom=False: V_i = D R D, R = acf(|i - j|) of the pacf
  a <- read.csv("toep_limit.csv", stringsAsFactors = FALSE)
  Vf <- function(p, pos) { s <- p[1:4][pos]; r <- c(1, pacf_to_acf(p[5:7])); outer(s, s) * matrix(r[abs(outer(pos, pos, "-")) + 1], length(pos)) }
  kind <- c(rep("sd", 4), rep("cor", 3))
  starts <- lapply(1:12, function(i) c(log(1.5) + rnorm(4, 0, 0.3), atanh(runif(3, -0.9, 0.9))))
  cat("toep\n")
  res$toep <- check_case("toep", ml_dev(model.matrix(~time, a), a$y, a$time, a$subject, Vf), kind,
    to_u(c(1.5, 1.5, 1.5, 1.5, 0.7, -0.2, 0), kind), c(paste0("sd_tft", 1:4, "|subject"),
    paste0("pacf_", 1:3, "|subject")), starts, c(0.05, 0.3, 1), 5:7)
}
if ("ar1hi" %in% only) {  # (1|subject) + ar1(0 + tf|subject): tau^2 J + s^2 rho^|dt|
  a <- read.csv("ar1hi.csv", stringsAsFactors = FALSE)
  Vf <- function(p, pos) p[1]^2 + p[2]^2 * p[3]^abs(outer(pos, pos, "-"))
  kind <- c("sd", "sd", "cor"); grid <- list()
  for (tau in c(0.01, 0.8, 1.4)) for (s in c(0.5, 1.2)) for (rho in c(0.85, 0.95, 0.98))
    grid[[length(grid) + 1]] <- to_u(c(tau, s, rho), kind)
  cat("ar1hi\n")
  res$ar1hi <- check_case("ar1hi", ml_dev(model.matrix(~t, a), a$y, a$t, a$subject, Vf), kind,
    to_u(c(1, 1, 0.95), kind), c("sd_(Intercept)|subject", "sd|subject", "rho|subject"), grid, c(0.05, 0.3), 3)
}
if ("arh1" %in% only) {  # Oxboys with rows missing, ar1(0 + occf|Subject, hom=False): not run yet
  a <- read.csv("../cov_oxboys/oxboys_miss.csv", stringsAsFactors = FALSE)
  Vf <- function(p, pos) { s <- p[1:9][pos]; outer(s, s) * p[10]^abs(outer(pos, pos, "-")) }
  kind <- c(rep("sd", 9), "cor"); grid <- list()
  for (sc in c(5, 8, 12)) for (rho in c(0.9, 0.99, 0.998))
    grid[[length(grid) + 1]] <- to_u(c(rep(sc, 9), rho), kind)
  cat("arh1\n")
  res$arh1 <- check_case("arh1", ml_dev(model.matrix(~age, a), a$height, a$occ, a$Subject, Vf), kind,
    to_u(c(seq(7, 10, length.out = 9), 0.995), kind), c(paste0("sd_occfv", 1:9, "|Subject"), "rho|Subject"),
    grid, c(0.1, 0.5, 2), 10)
}
if ("vec" %in% only) {  # (1 + t|subject) + ar1(0 + tf|subject): [1 t] S [1 t]' + s^2 rho^|dt|
  a <- read.csv("ar1hi.csv", stringsAsFactors = FALSE)
  Vf <- function(p, pos) { S <- matrix(c(p[1]^2, p[1] * p[2] * p[3], p[1] * p[2] * p[3], p[2]^2), 2)
    Z <- cbind(1, pos); Z %*% S %*% t(Z) + p[4]^2 * p[5]^abs(outer(pos, pos, "-")) }
  kind <- c("sd", "sd", "cor", "sd", "cor"); grid <- list()
  for (tau in c(0.3, 1.2)) for (sl in c(0.01, 0.1)) for (r in c(-0.6, 0.3)) for (rho in c(0.8, 0.95))
    grid[[length(grid) + 1]] <- to_u(c(tau, sl, r, 0.6, rho), kind)
  cat("vec\n")
  res$vec <- check_case("vec", ml_dev(model.matrix(~t, a), a$y, a$t, a$subject, Vf), kind,
    to_u(c(1.2, 0.05, -0.6, 0.56, 0.9), kind), c("sd_(Intercept)|subject", "sd_t|subject",
    "cor_t.(Intercept)|subject", "sd|subject", "rho|subject"), grid, c(0.05, 0.3), 5)
}
old <- if (file.exists("prof_full_ends2.json")) fromJSON("prof_full_ends2.json", simplifyVector = FALSE) else list()
for (nm in names(res)) old[[nm]] <- res[[nm]]
writeLines(toJSON(old, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), "prof_full_ends2.json")
