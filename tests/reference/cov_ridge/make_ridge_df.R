# Satterthwaite df of the contrasts variety_i - variety_1 at Wheat2's ridge limit (REML), for
# tests/test_residual_level.py::test_contrasts_keep_their_df. Run from the repository root:
#   Rscript tests/reference/cov_ridge/make_ridge_df.R
# The spherical/exponential fits with a nugget end on the range's ridge, whose limit is the model
# V = sigma2 (s J + t I - D) (make_ridge.R: a linear variogram plus a nugget; the s J part lies in
# col(X) and changes neither REML nor the contrasts). The contrasts' df are those of this limit
# model: variance parameters psi = (sigma2, t), the REML deviance f(psi) (not profiled),
# Var(L'beta) = L'(X'V^-1 X)^-1 L, df = 2 Var^2 / (g' A g), g its gradient in psi, A = 2 H^-1
# with H the Hessian of f (lmerTest's definition; numDeriv's Richardson derivatives).
suppressMessages({library(jsonlite); library(numDeriv)})
wheat <- read.csv("tests/data/cov/heldout_wheat2.csv")
schema <- fromJSON("tests/data/cov/heldout_schema.json")
wheat$variety <- factor(wheat$variety, levels = schema$wheat2$factors$variety)
X <- model.matrix(yield ~ variety - 1, wheat); y <- wheat$yield; N <- nrow(X); p <- ncol(X)
D <- as.matrix(dist(wheat[, c("latitude", "longitude")]))
S <- 1e4
Vof <- function(psi) { V <- psi[1] * (S - D); diag(V) <- psi[1] * (S + psi[2]); V }
parts <- function(psi) {
  C <- chol(Vof(psi)); Xw <- backsolve(C, X, transpose = TRUE); yw <- backsolve(C, y, transpose = TRUE)
  R <- chol(crossprod(Xw)); b <- backsolve(R, backsolve(R, crossprod(Xw, yw), transpose = TRUE))
  list(C = C, R = R, b = b, rss = sum((yw - Xw %*% b)^2))
}
deviance <- function(psi) {
  q <- parts(psi)
  2 * sum(log(diag(q$C))) + 2 * sum(log(diag(q$R))) + q$rss + (N - p) * log(2 * pi)
}
# the limit optimum: t from the profiled REML (make_ridge.R), sigma2 = rss / (N - p) there
prof <- function(lt) { q <- parts(c(1, exp(lt))); (N - p) * log(q$rss) + 2 * sum(log(diag(q$C))) + 2 * sum(log(diag(q$R))) }
t_hat <- exp(optimize(prof, c(-5, 8), tol = 1e-12)$minimum)
s2_hat <- parts(c(1, t_hat))$rss / (N - p)
psi <- c(s2_hat, t_hat)
H <- hessian(deviance, psi)
A <- 2 * solve(H)
df <- numeric(p - 1)
for (i in 2:p) {
  L <- numeric(p); L[1] <- -1; L[i] <- 1
  phi <- function(ps) { R <- parts(ps)$R; sum(backsolve(R, L, transpose = TRUE)^2) }
  g <- grad(phi, psi)
  df[i - 1] <- 2 * phi(psi)^2 / drop(t(g) %*% A %*% g)
}
names(df) <- paste0(colnames(X)[-1], " - ", colnames(X)[1])
out <- list(
  id = "wheat2_ridge_limit_contrast_df", data = "heldout_wheat2.csv",
  engine = paste("R", getRversion(), "/ numDeriv", packageVersion("numDeriv")),
  r = "Satterthwaite df of variety_i - variety_1 in the REML limit model V = sigma2 (s J + t I - D)",
  sigma2_limit = s2_hat, t_limit = t_hat,
  df_contrast = as.list(df))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/cov_ridge/wheat2_ridge_limit_df.json")
cat("t", t_hat, "df range", range(df), "BRULE", df[1], "\n")
