# 2 (l_max - l_prof) of the FITTED model (sigma >= 0 free) at mixedfit's profile interval ends
# (prof_full_ends_in.json, copied from mixedfit's confint(method = "profile")): must be
# qchisq(0.95, 1) = 3.841459 at both ends. As prof_full.R (dense V + sigma^2 I, ML deviance, beta
# profiled out; at each value the better of the limit model's optimum, sigma = 0, and an interior
# one, log sigma free), with more starts at each point (the ML estimate, a grid over the
# parameters for ar1hi whose profile has two local optima at small s, and sigma/c of 0.05, 0.3):
# cheaper than prof_full.R's uniroot for the models with 5-7 parameters.
# Run (in this directory): Rscript prof_full_ends.R [cases] -> prof_full_ends.json
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
only <- if (length(args)) args else c("ar1hi", "cs", "toep")
ends <- fromJSON("prof_full_ends_in.json", simplifyVector = FALSE)
to_nat <- function(u, kind, k) ifelse(kind == "sd", exp(u), ifelse(kind == "cor", tanh(u),
  -1 / (k - 1) + (k / (k - 1)) * plogis(u)))
to_u <- function(v, kind, k) ifelse(kind == "sd", log(v), ifelse(kind == "cor", atanh(v),
  qlogis((v + 1 / (k - 1)) * (k - 1) / k)))
pacf_to_acf <- function(pi) {
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
check_case <- function(X, y, Vfun, kind, k, u0, names, grid = list()) {
  n <- length(y); p <- ncol(X); m <- length(kind)
  dev <- function(par, sg) {
    V <- Vfun(par); diag(V) <- diag(V) + sg^2
    L <- tryCatch(chol(V), error = function(e) NULL); if (is.null(L)) return(1e10)
    Xw <- backsolve(L, X, transpose = TRUE); yw <- backsolve(L, y, transpose = TRUE)
    Rq <- qr.R(qr(cbind(Xw, yw)))
    v <- 2 * sum(log(diag(L))) + Rq[p + 1, p + 1]^2 + n * log(2 * pi)
    if (is.finite(v)) v else 1e10
  }
  flim <- function(u) dev(to_nat(u, kind, k), 0)
  ffull <- function(u) dev(to_nat(u[1:m], kind, k), exp(u[m + 1]))
  best <- nl(u0, flim)
  for (s in grid) { o <- nl(s, flim); if (o$objective < best$objective) best <- o }
  ulim <- best$par; d0 <- best$objective
  for (ls in log(c(0.05, 0.3))) { o <- nl(c(ulim, ls), ffull); d0 <- min(d0, o$objective) }
  out <- list(loglik_ml = -d0 / 2)
  for (j in seq_along(names)) {
    at <- unlist(ends[[names[j]]])
    dl <- sapply(at, function(v) {
      if (is.null(v) || !is.finite(v) || (kind[j] == "sd" && v == 0)) return(NA)
      uj <- to_u(v, kind[j], k)
      fl <- function(w) { u <- numeric(m); u[-j] <- w; u[j] <- uj; flim(u) }
      ff <- function(w) { u <- numeric(m + 1); u[-j] <- w; u[j] <- uj; ffull(u) }
      ol <- nl(ulim[-j], fl)
      for (s in grid) { o2 <- nl(s[-j], fl); if (o2$objective < ol$objective) ol <- o2 }
      b <- ol$objective
      for (ls in log(c(0.05, 0.3))) b <- min(b, nl(c(ol$par, ls), ff)$objective, nl(c(ulim[-j], ls), ff)$objective)
      b - d0 })
    cat(sprintf("  %s at [%.10f, %.10f]: 2 dl %.6f, %.6f\n", names[j], at[1], at[2], dl[1], dl[2]))
    out[[names[j]]] <- list(ends = at, twice_dl = dl)
  }
  out
}
res <- list()
if ("ar1hi" %in% only) {
  ends_all <- ends; ends <- ends_all$ar1hi
  a <- read.csv("ar1hi.csv", stringsAsFactors = FALSE)
  S <- outer(a$subject, a$subject, "=="); H <- abs(outer(a$t, a$t, "-"))
  kind <- c("sd", "sd", "cor"); grid <- list()
  for (tau in c(0.01, 0.3, 0.8, 1.1, 1.4)) for (s in c(0.5, 1, 1.5)) for (rho in c(0.7, 0.85, 0.95, 0.98))
    grid[[length(grid) + 1]] <- to_u(c(tau, s, rho), kind, 0)
  cat("ar1hi\n")
  res$ar1hi <- check_case(model.matrix(~t, a), a$y, function(p) (p[1]^2 + p[2]^2 * p[3]^H) * S, kind, 0,
    to_u(c(1, 1, 0.95), kind, 0), c("sd_(Intercept)|subject", "sd|subject", "rho|subject"), grid)
  ends <- ends_all
}
if ("cs" %in% only) {
  ends_all <- ends; ends <- ends_all$cs
  a <- read.csv("cs_limit.csv", stringsAsFactors = FALSE); k <- 4
  S <- outer(a$subject, a$subject, "=="); E <- outer(a$time, a$time, "==")
  Vf <- function(p) { s <- p[1:4][a$time]; outer(s, s) * (p[5] + (1 - p[5]) * E) * S }
  kind <- c(rep("sd", 4), "cs")
  cat("cs\n")
  res$cs <- check_case(model.matrix(~time, a), a$y, Vf, kind, k, to_u(c(1, 1.5, 2, 1.2, 0.5), kind, k),
    c(paste0("sd_tft", 1:4, "|subject"), "rho|subject"))
  ends <- ends_all
}
if ("toep" %in% only) {
  ends_all <- ends; ends <- ends_all$toep
  a <- read.csv("toep_limit.csv", stringsAsFactors = FALSE); k <- 4
  S <- outer(a$subject, a$subject, "=="); H <- abs(outer(a$time, a$time, "-"))
  Vf <- function(p) { s <- p[1:4][a$time]; r <- c(1, pacf_to_acf(p[5:7])); outer(s, s) * matrix(r[H + 1], nrow(a)) * S }
  kind <- c(rep("sd", 4), rep("cor", 3))
  cat("toep\n")
  res$toep <- check_case(model.matrix(~time, a), a$y, Vf, kind, k, to_u(c(1.5, 1.5, 1.5, 1.5, 0.7, -0.2, 0), kind, k),
    c(paste0("sd_tft", 1:4, "|subject"), paste0("pacf_", 1:3, "|subject")))
  ends <- ends_all
}
old <- if (file.exists("prof_full_ends.json")) fromJSON("prof_full_ends.json", simplifyVector = FALSE) else list()
for (nm in names(res)) old[[nm]] <- res[[nm]]
writeLines(toJSON(old, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), "prof_full_ends.json")
