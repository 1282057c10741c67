# Row-level results of residual-structure fits (issue 12) with nlme, for
# tests/test_residual_results.py. Run from the repository root:
#   Rscript tests/reference/cov_results/cov_results.R
# Writes tests/reference/cov_results/<id>.json, one per model of tests/reference/cov/<id>.json
# (the same R call): fitted values, residuals (response, pearson, normalized), ranef,
# conditional sds of the BLUPs, and predictions on a few new rows.
#
# * fitted / residuals are nlme's level-1 values for lme (Xb + Zu), Xb for gls, in data order
#   (checked against predict(fit, data) here).
# * nlme has no conditional sd of the BLUPs. It is computed densely here, as lme4's condVar:
#   conditional on the estimates (theta, phi, beta):  Var(u | y) = G - G Z' V^-1 Z G with
#   V = Z G Z' + R, G = I_nlev (x) getVarCov(fit), R = blockdiag over subjects of
#   getVarCov(fit, type = "conditional") (sigma^2 Lambda_R), Z the full n x (nlev q) matrix.
# * predictions: predict(fit, newdata, level = 0) and level = 1 (lme); a new level of the
#   grouping has NA at level 1 in nlme (mixedfit's allow_new_levels gives its level-0 value).
suppressMessages({library(nlme); library(jsonlite)})

root <- "tests"
sch <- fromJSON(file.path(root, "data/cov/schema.json"))
ld <- function(nm) {
  d <- read.csv(file.path(root, "data/cov", sch[[nm]]$file), stringsAsFactors = FALSE)
  for (f in names(sch[[nm]]$factors))
    d[[f]] <- factor(as.character(d[[f]]), levels = sch[[nm]]$factors[[f]])
  d
}
orthodont <- ld("orthodont"); ovary <- ld("ovary"); bodyweight <- ld("bodyweight")
dialyzer <- ld("dialyzer")

# New rows: two existing subjects at new covariate values, and one new subject.
newrows <- list(
  orthodont = function(d) data.frame(
    Sex = factor(c("Male", "Female", "Female"), levels = levels(d$Sex)),
    age_c = c(0.5, 2, -1), Subject = factor(c("M01", "F03", "NEW"), levels = c(levels(d$Subject), "NEW")),
    occ = c(2, 4, 1), agef = factor(c("10", "14", "8"), levels = levels(d$agef))),
  ovary = function(d) data.frame(
    sinT = c(0.1, -0.5, 0.3), cosT = c(0.99, 0.8, -0.95),
    Mare = factor(c("1", "7", "NEW"), levels = c(levels(d$Mare), "NEW")),
    Time = c(0.3, 0.6, 0.1), obs = c(30, 31, 1)),
  bodyweight = function(d) data.frame(
    Time = c(30, 70, 15), Diet = factor(c("1", "3", "2"), levels = levels(d$Diet)),
    Rat = factor(c("1", "16", "NEW"), levels = c(levels(d$Rat), "NEW"))),
  dialyzer = function(d) {
    p <- c(0.7, 1.9, 1.1)
    data.frame(pressure = p, pressure2 = p^2, pressure3 = p^3, pressure4 = p^4,
               QB = factor(c("200", "300", "300"), levels = levels(d$QB)),
               Subject = factor(c("1", "20", "NEW"), levels = c(levels(d$Subject), "NEW")))
  })

ids <- c("orthodont_lme_ri_ar1_reml", "ovary_lme_diag_ar1_reml", "ovary_lme_diag_car1_reml",
         "bodyweight_lme_slope_varpower_car1_reml", "dialyzer_lme_varpower_reml",
         "orthodont_gls_cs_reml", "orthodont_gls_un_reml", "orthodont_gls_cs_varident_sex_reml")

condsd_dense <- function(fit, d) {
  grp <- names(fit$groups)[1]
  g <- d[[grp]]                               # data order
  Zi <- model.matrix(formula(fit$modelStruct$reStruct[[1]]), d)
  G1 <- unclass(getVarCov(fit))[seq_len(ncol(Zi)), seq_len(ncol(Zi)), drop = FALSE]
  lev <- levels(droplevels(g)); nl <- length(lev); q <- ncol(Zi); n <- nrow(d)
  Z <- matrix(0, n, nl * q)
  for (j in seq_len(nl)) { i <- which(g == lev[j]); Z[i, (j - 1) * q + seq_len(q)] <- Zi[i, ] }
  G <- kronecker(diag(nl), G1)
  R <- matrix(0, n, n)
  Rc <- getVarCov(fit, type = "conditional", individuals = lev)
  for (j in seq_len(nl)) { i <- which(g == lev[j]); R[i, i] <- unclass(Rc[[lev[j]]]) }
  V <- Z %*% G %*% t(Z) + R
  C <- G - G %*% t(Z) %*% solve(V, Z %*% G)
  sd <- matrix(sqrt(pmax(diag(C), 0)), nl, q, byrow = TRUE)
  colnames(sd) <- colnames(Zi); rownames(sd) <- lev
  # the BLUPs from the same dense formula (a check of ranef)
  X <- model.matrix(formula(fit)[-2], d)
  y <- model.response(model.frame(formula(fit), d))
  u <- G %*% t(Z) %*% solve(V, y - X %*% fixef(fit))
  list(sd = sd, u = matrix(u, nl, q, byrow = TRUE))
}

frame_rows <- function(m) lapply(seq_len(nrow(m)), function(i) as.list(m[i, , drop = TRUE]))

for (id in ids) {
  ref <- fromJSON(file.path(root, "reference/cov", paste0(id, ".json")))
  dname <- sub("\\.csv$", "", ref$data)
  d <- get(dname)
  fit <- eval(parse(text = ref$r))
  is_lme <- inherits(fit, "lme")
  stopifnot(abs(as.numeric(logLik(fit)) - ref$loglik) < 1e-6 * abs(ref$loglik))
  fv <- as.numeric(fitted(fit))
  stopifnot(max(abs(fv - predict(fit, d))) < 1e-9)  # fitted in data order
  out <- list(
    id = id, r = ref$r, engine = paste("nlme", packageVersion("nlme")),
    nobs = nrow(d), loglik = as.numeric(logLik(fit)),
    fitted = fv,
    residuals = list(
      response = as.numeric(residuals(fit, type = "response")),
      pearson = as.numeric(residuals(fit, type = "pearson")),
      normalized = as.numeric(residuals(fit, type = "normalized"))))
  stopifnot(max(abs(out$residuals$response - (d[[all.vars(formula(fit))[1]]] - fv))) < 1e-9)
  nd <- newrows[[dname]](d)
  out$newdata <- nd
  out$predict_level0 <- as.numeric(predict(fit, nd, level = 0))
  if (is_lme) {
    out$predict_level1 <- as.numeric(predict(fit, nd, level = 1))  # NA for the new level
    re <- ranef(fit)
    dense <- condsd_dense(fit, d)
    stopifnot(max(abs(as.matrix(re[rownames(dense$sd), ]) - dense$u)) < 1e-6 * max(1, abs(dense$u)))
    out$group <- names(fit$groups)[1]
    out$ranef <- list(levels = rownames(re), columns = colnames(re), values = unname(as.matrix(re)))
    out$ranef_condsd <- list(levels = rownames(dense$sd), columns = colnames(dense$sd),
                             values = unname(dense$sd))
  }
  write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
        file.path(root, "reference/cov_results", paste0(id, ".json")))
  cat(id, "done\n")
}
