suppressMessages({library(jsonlite); library(numDeriv)})
src <- readLines("/work/rv12b/tests/reference/cov_kr/make_kr.R"); a <- grep("^kr_dense <- function", src); b <- grep("^write_ref <- function", src)
eval(parse(text = src[a:(b - 1)]))
for (nz in c("1e-2", "1e-3", "1e-4", "1e-5", "1e-6", "1e-7")) {
  d <- read.csv(sprintf("kr_%s.csv", nz)); d$stratum <- factor(d$stratum)
  X <- model.matrix(~ stratum + x, d); B <- d$stratum == "B"; N <- nrow(d); p <- ncol(X)
  negll <- function(t) { w <- ifelse(B, exp(t[1] + t[2]), exp(t[1])); Xw <- X / w; yw <- d$y / w
    q <- qr(Xw); r <- qr.resid(q, yw)
    0.5 * ((N - p) * log(2 * pi) + 2 * sum(log(w)) + 2 * sum(log(abs(diag(qr.R(q))))) + sum(r^2)) }
  best <- list(objective = Inf)
  for (t2 in c(0, -3, -7, -10, -14)) { o <- nlminb(c(0, t2), negll, control = list(rel.tol = 1e-14, iter.max = 1000)); if (o$objective < best$objective) best <- o }
  tau <- best$par
  S_of <- function(t) diag(c(exp(2 * t[1]), exp(2 * t[1] + 2 * t[2])))
  idx <- as.list(ifelse(B, 2L, 1L)); rows <- seq_len(N)
  res <- tryCatch(kr_dense(S_of, idx, tau, lapply(rows, function(i) X[i, , drop = FALSE]), as.list(d$y)), error = function(e) list(error = conditionMessage(e)))
  cat(toJSON(list(nz = nz, ll = -best$objective, ratio = exp(tau[2]), sigma = exp(tau[1]), se = res$se, se_kr = res$se_kr, df = res$df, err = res$error), digits = NA, auto_unbox = TRUE), "\n")
}
