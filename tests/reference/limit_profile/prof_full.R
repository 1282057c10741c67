# Dense ML profile intervals (95%) of fits at the sigma -> 0 limit, of the FITTED model: the
# residual sd sigma >= 0 is free (re-optimized at every profile point with the other parameters),
# as the model that was fitted has it (issue 12, rv10 MEDIUM-3). At each fixed value the profiled
# deviance is the better of the limit model's optimum (sigma = 0) and an interior optimum
# (sigma > 0, log sigma free), each by nlminb from several starts (the previous point's solution
# and the ML estimate). The ends are the roots of 2 (l_max - l_prof(v)) = qchisq(0.95, 1)
# (uniroot, tol 1e-10); l_max is the better of the two models' optima (the limit's here).
# V is dense (n x n): per data set V(par) = the structured term (+ nested / crossed terms),
# plus sigma^2 I. Run (in this directory): Rscript prof_full.R [cases] -> prof_full.json
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
only <- if (length(args)) args else c("prof_a", "ar1hi", "cs", "toep", "cr_b")

to_nat <- function(u, kind, k) ifelse(kind == "sd", exp(u), ifelse(kind == "cor", tanh(u),
  -1 / (k - 1) + (k / (k - 1)) * plogis(u)))
to_u <- function(v, kind, k) ifelse(kind == "sd", log(v), ifelse(kind == "cor", atanh(v),
  qlogis((v + 1 / (k - 1)) * (k - 1) / k)))
pacf_to_acf <- function(pi) {  # Durbin-Levinson: lag correlations 1..m from the pacf
  m <- length(pi); phi <- numeric(0); r <- numeric(m)
  for (j in seq_len(m)) {
    new <- c(phi - pi[j] * rev(phi), pi[j])
    r[j] <- if (j == 1) pi[1] else sum(phi * r[(j - 1):1]) + pi[j] * (1 - sum(phi * r[seq_len(j - 1)]))
    phi <- new
  }
  r
}
ctl <- list(iter.max = 2000, eval.max = 4000, rel.tol = 1e-13)
nl <- function(s, f) tryCatch(nlminb(s, f, control = ctl), error = function(e) list(objective = Inf, par = s))

profile_case <- function(X, y, Vfun, kind, k, u0, which, sig_starts, extra_starts = list()) {
  n <- length(y); p <- ncol(X)
  dev <- function(par, sg) {  # ML deviance, beta profiled out
    V <- Vfun(par); diag(V) <- diag(V) + sg^2
    L <- tryCatch(chol(V), error = function(e) NULL); if (is.null(L)) return(1e10)
    Xw <- backsolve(L, X, transpose = TRUE); yw <- backsolve(L, y, transpose = TRUE)
    Rq <- qr.R(qr(cbind(Xw, yw)))
    v <- 2 * sum(log(diag(L))) + Rq[p + 1, p + 1]^2 + n * log(2 * pi)
    if (is.finite(v)) v else 1e10
  }
  m <- length(kind)
  flim <- function(u) dev(to_nat(u, kind, k), 0)
  ffull <- function(u) dev(to_nat(u[1:m], kind, k), exp(u[m + 1]))
  best <- nl(u0, flim)
  for (s in extra_starts) { o <- nl(s, flim); if (o$objective < best$objective) best <- o }
  ulim <- best$par; dlim <- best$objective
  bestf <- list(objective = Inf)
  for (ls in sig_starts) { o <- nl(c(ulim, ls), ffull); if (o$objective < bestf$objective) bestf <- o }
  d0 <- min(dlim, bestf$objective)
  est <- to_nat(ulim, kind, k)
  cat(sprintf("  ML loglik limit %.10f, sigma free %.10f (sigma %.3g)\n", -dlim / 2, -bestf$objective / 2,
    exp(bestf$par[m + 1])))
  out <- list(loglik_ml = -d0 / 2, loglik_limit = -dlim / 2, estimate = est)
  for (j in which) {
    wl <- ulim[-j]; wf <- NULL
    prof <- function(v) {
      uj <- to_u(v, kind[j], k)
      fl <- function(w) { u <- numeric(m); u[-j] <- w; u[j] <- uj; flim(u) }
      ff <- function(w) { u <- numeric(m + 1); u[-j] <- w; u[j] <- uj; ffull(u) }
      ol <- nl(wl, fl); o2 <- nl(ulim[-j], fl); if (o2$objective < ol$objective) ol <- o2
      of <- list(objective = Inf)
      starts <- c(if (!is.null(wf)) list(wf) else list(), lapply(sig_starts, function(ls) c(ol$par, ls)))
      for (s in starts) { o2 <- nl(s, ff); if (o2$objective < of$objective) of <- o2 }
      wl <<- ol$par; wf <<- of$par
      min(ol$objective, of$objective)
    }
    g <- function(v) prof(v) - d0 - qchisq(0.95, 1)
    e <- est[j]
    if (kind[j] == "sd") { lo_b <- e / 50; hi_b <- max(e * 6, 3 * max(est[kind == "sd"])) } else {
      low <- if (kind[j] == "cs") -1 / (k - 1) else -1
      lo_b <- low + 1e-7 * (e - low); hi_b <- 1 - 1e-7 * (1 - e) }
    wl <- ulim[-j]; wf <- NULL
    lo <- if (g(lo_b) < 0) (if (kind[j] == "sd") 0 else NA) else uniroot(g, c(lo_b, e), tol = 1e-10)$root
    wl <- ulim[-j]; wf <- NULL
    hi <- if (g(hi_b) < 0) NA else uniroot(g, c(e, hi_b), tol = 1e-10)$root
    out[[paste0("p", j)]] <- c(lo, hi)
    cat(sprintf("  parameter %d (%s): estimate %.6f interval [%.8f, %.8f]\n", j, kind[j], e, lo, hi))
  }
  out
}

res <- list()
ar1_nested <- function(file) {  # (1|subject) + ar1(0 + tf|subject): tau^2 J + s^2 rho^|dt|
  a <- read.csv(file, stringsAsFactors = FALSE)
  S <- outer(a$subject, a$subject, "=="); H <- abs(outer(a$t, a$t, "-"))
  list(X = model.matrix(~t, a), y = a$y, V = function(p) (p[1]^2 + p[2]^2 * p[3]^H) * S)
}
names_ar1 <- c("sd_(Intercept)|subject", "sd|subject", "rho|subject")
if ("prof_a" %in% only) {
  cat("prof_a\n"); z <- ar1_nested("prof_a.csv"); kind <- c("sd", "sd", "cor")
  r <- profile_case(z$X, z$y, z$V, kind, 0, to_u(c(1.2, 0.8, 0.8), kind, 0), 1:3, log(c(0.05, 0.3)))
  res$prof_a <- c(r[1:3], setNames(r[paste0("p", 1:3)], names_ar1))
}
if ("ar1hi" %in% only) {
  cat("ar1hi\n"); z <- ar1_nested("ar1hi.csv"); kind <- c("sd", "sd", "cor")
  r <- profile_case(z$X, z$y, z$V, kind, 0, to_u(c(1, 1, 0.95), kind, 0), 1:3, log(c(0.05, 0.3)),
    list(to_u(c(0.1, 1.2, 0.9), kind, 0)))
  res$ar1hi <- c(r[1:3], setNames(r[paste0("p", 1:3)], names_ar1))
}
if ("cs" %in% only) {  # cs(0 + tf|subject), hom=False: V = D P D, P_ij = rho
  a <- read.csv("cs_limit.csv", stringsAsFactors = FALSE); k <- 4
  S <- outer(a$subject, a$subject, "=="); E <- outer(a$time, a$time, "==")
  Vf <- function(p) { s <- p[1:4][a$time]; outer(s, s) * (p[5] + (1 - p[5]) * E) * S }
  kind <- c(rep("sd", 4), "cs")
  cat("cs\n")
  r <- profile_case(model.matrix(~time, a), a$y, Vf, kind, k, to_u(c(1, 1.5, 2, 1.2, 0.5), kind, k), 1:5,
    log(c(0.05, 0.3)))
  res$cs <- c(r[1:3], setNames(r[paste0("p", 1:5)], c(paste0("sd_tft", 1:4, "|subject"), "rho|subject")))
}
if ("toep" %in% only) {  # toep(0 + tf|subject), hom=False: V = D R D, R_ij = acf(|i-j|) of the pacf
  a <- read.csv("toep_limit.csv", stringsAsFactors = FALSE); k <- 4
  S <- outer(a$subject, a$subject, "=="); H <- abs(outer(a$time, a$time, "-"))
  Vf <- function(p) { s <- p[1:4][a$time]; r <- c(1, pacf_to_acf(p[5:7])); outer(s, s) * matrix(r[H + 1], nrow(a)) * S }
  kind <- c(rep("sd", 4), rep("cor", 3))
  cat("toep\n")
  r <- profile_case(model.matrix(~time, a), a$y, Vf, kind, k, to_u(c(1.5, 1.5, 1.5, 1.5, 0.7, -0.2, 0), kind, k),
    1:7, log(c(0.05, 0.3)))
  res$toep <- c(r[1:3], setNames(r[paste0("p", 1:7)],
    c(paste0("sd_tft", 1:4, "|subject"), paste0("pacf_", 1:3, "|subject"))))
}
if ("cr_b" %in% only) {  # (1|item) + (1|subject) + ar1(0 + tf|subject), item crossed with subject
  a <- read.csv("cr_b.csv", stringsAsFactors = FALSE)
  S <- outer(a$subject, a$subject, "=="); H <- abs(outer(a$t, a$t, "-")); I <- outer(a$item, a$item, "==")
  Vf <- function(p) (p[1]^2 + p[2]^2 * p[3]^H) * S + p[4]^2 * I
  kind <- c("sd", "sd", "cor", "sd")
  cat("cr_b\n")
  r <- profile_case(model.matrix(~t, a), a$y, Vf, kind, 0, to_u(c(1, 1, 0.8, 0.2), kind, 0), 1:4,
    log(c(0.05, 0.3)), list(to_u(c(0.5, 1.2, 0.9, 0.1), kind, 0)))
  res$cr_b <- c(r[1:3], setNames(r[paste0("p", 1:4)], c(names_ar1, "sd_(Intercept)|item")))
}
old <- if (file.exists("prof_full.json")) fromJSON("prof_full.json", simplifyVector = FALSE) else list()
for (nm in names(res)) old[[nm]] <- res[[nm]]
writeLines(toJSON(old, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), "prof_full.json")
