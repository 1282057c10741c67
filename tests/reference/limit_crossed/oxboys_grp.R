# Reference for tests/test_limit_df.py::test_crossed_limit_df_are_the_dense_limit_df (and
# tests/test_limit_crossed.py): Oxboys with rows missing (../cov_oxboys/oxboys_miss.csv),
# height ~ age + (1 | grp) + ar1(0 + occf | Subject, hom = FALSE) at the sigma -> 0 limit, where grp
# (odd/even subjects) spans subjects: V = blockdiag_Subject(D R(rho) D) + v J_grp, D the
# occasions' sds, R = rho^|occ_i - occ_j|. Dense REML at sigma = 0 in
# q = (log sd_v1..v9, atanh rho, grp sd) (nlminb from nlme's gls(corAR1 + varIdent) with
# several grp sds), beta, SE and the Satterthwaite df as lmerTest computes them (see
# limit_crossed.R). Run from this directory: Rscript oxboys_grp.R
suppressMessages({library(nlme); library(numDeriv)})
d <- read.csv("../cov_oxboys/oxboys_miss.csv", stringsAsFactors = FALSE)
d <- d[order(d$Subject, d$occ), ]; n <- nrow(d); X <- model.matrix(~age, d); p <- ncol(X)
S <- outer(d$Subject, d$Subject, "=="); H <- abs(outer(d$occ, d$occ, "-"))
G <- outer(d$grp, d$grp, "=="); lev <- as.integer(factor(d$occf, levels = paste0("v", 1:9)))
Vof <- function(q) { sd <- exp(q[1:9])[lev]; outer(sd, sd) * tanh(q[10])^H * S + q[11]^2 * G }
parts <- function(q) { L <- chol(Vof(q))
  Xw <- backsolve(L, X, transpose = TRUE); yw <- backsolve(L, d$height, transpose = TRUE)
  A <- crossprod(Xw); b <- solve(A, crossprod(Xw, yw)); r <- yw - Xw %*% b
  list(A = A, b = b, r2 = sum(r^2), ld = 2 * sum(log(diag(L)))) }
dev <- function(q) { s <- parts(q)
  s$ld + s$r2 + as.numeric(determinant(s$A)$modulus) + (n - p) * log(2 * pi) }
g <- gls(height ~ age, d, correlation = corAR1(form = ~occ | Subject),
         weights = varIdent(form = ~1 | occf), method = "REML")
ratio <- coef(g$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)[paste0("v", 1:9)]
start <- c(log(g$sigma * ratio), atanh(coef(g$modelStruct$corStruct, unconstrained = FALSE)))
best <- NULL
for (v in c(0.5, 2, 5)) {
  o <- nlminb(c(start, v), dev, control = list(rel.tol = 1e-15, x.tol = 1e-12, eval.max = 20000,
                                               iter.max = 20000))
  if (is.null(best) || o$objective < best$objective) best <- o
}
q <- best$par; s <- parts(q); vc <- solve(s$A)
# the df: sat_df_at of ../limit_df/sat_dense.R (source()d by a path from this directory; until
# session 12 a copy here), numDeriv step d = 0.01
source("../limit_df/sat_dense.R")
df <- sat_df_at(dev, function(q) solve(parts(q)$A), q, 0.01)$df
out <- list(loglik = -best$objective / 2, nested_gls = as.numeric(logLik(g)), grp_sd = abs(q[11]),
            sds = exp(q[1:9]), rho = tanh(q[10]), beta = as.vector(s$b), se = sqrt(diag(vc)),
            df = df)
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "oxboys_grp.json")
