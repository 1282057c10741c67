# Kenward-Roger references for residual-structure fits (mixedfit issue 12), by a dense R
# implementation of mmrm's formulas (notes/covariance-research.md §3; verified there against
# mmrm's own KR on fev us to 1.5e-8):
#   Phi_A = Phi + 2 Phi [sum_hj W_hj (Q_hj - P_h Phi P_j - R_hj / 4)] Phi,
#   W = solve(numDeriv Hessian of the REML -loglik in tau), R_hj from numDeriv second
#   derivatives of each subject's V(tau), df of one coefficient = 2 (l'Phi l)^2 / (g'Wg).
# tau: mmrm's theta for fev (the estimates stored in tests/reference/cov/fev_mmrm_<type>_reml.json);
# for nlme fits the natural analogue mixedfit documents (log sd, log sd ratio, u = rho/sqrt(1-rho^2),
# CS's logistic map with a = 1/(m-1)), at nlme's estimates.
# Also a correlated random slope (BodyWeight) with CAR(1) & VarPower: G on mmrm's us scale.
# Run from the repository root:  Rscript tests/reference/cov_kr/make_kr.R
suppressMessages({library(nlme); library(jsonlite); library(numDeriv)})
here <- "tests/reference/cov_kr"
sch <- fromJSON("tests/data/cov/schema.json")
ld <- function(nm) {
  d <- read.csv(file.path("tests/data/cov", sch[[nm]]$file), stringsAsFactors = FALSE)
  for (f in names(sch[[nm]]$factors)) d[[f]] <- factor(as.character(d[[f]]), levels = sch[[nm]]$factors[[f]])
  d
}
f_inv <- function(t) t / sqrt(1 + t^2)
f_fwd <- function(r) r / sqrt(1 - r^2)

# kr_dense: the dense KR, in kr_dense.R (this directory; source()d from the repository root, as
# this script is run)
source("tests/reference/cov_kr/kr_dense.R")

write_ref <- function(id, python, r_fit, tau_note, res, names) {
  out <- list(id = id, python = python, r = r_fit, tau = tau_note, tau_values = res$tau,
              se = setNames(as.list(res$se), names), se_kr = setNames(as.list(res$se_kr), names),
              df = setNames(as.list(res$df), names),
              engine = paste("dense R (numDeriv", packageVersion("numDeriv"), ") at the estimates of", r_fit))
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, paste0(id, ".json")))
  cat(id, "done\n")
}

# ---------------------------------------------------------------- fev: mmrm's theta
fev <- ld("fev"); fev <- fev[!is.na(fev$FEV1), ]
Xf <- model.matrix(~ RACE + SEX + ARMCD * AVISIT, fev); vis <- as.integer(fev$AVISIT)
subj <- split(seq_len(nrow(fev)), factor(as.character(fev$USUBJID), levels = unique(as.character(fev$USUBJID))))
theta2cov <- function(type, th, m = 4) {
  hom <- type %in% c("ar1", "cs", "toep", "ad"); sd <- if (hom) rep(exp(th[1]), m) else exp(th[1:m])
  rest <- th[-(1:(if (hom) 1 else m))]; C <- diag(m)
  for (i in 2:m) for (j in 1:(i - 1)) C[i, j] <- C[j, i] <- switch(sub("h$", "", type),
    ar1 = f_inv(rest[1])^(i - j), cs = plogis(rest[1]) * (1 + 1 / (m - 1)) - 1 / (m - 1),
    toep = f_inv(rest[i - j]), ad = prod(f_inv(rest[j:(i - 1)])))
  diag(sd) %*% C %*% diag(sd) }
py_struct <- c(toep = 'mf.Toeplitz(time="AVISIT", subject="USUBJID")',
               toeph = 'mf.Toeplitz(time="AVISIT", subject="USUBJID", heterogeneous=True)',
               adh = 'mf.AnteDependence(time="AVISIT", subject="USUBJID")',
               csh = 'mf.CompoundSymmetry(subject="USUBJID", time="AVISIT", heterogeneous=True)',
               ar1h = 'mf.AR1(time="AVISIT", subject="USUBJID", heterogeneous=True)',
               cs = 'mf.CompoundSymmetry(subject="USUBJID")')
for (type in names(py_struct)) {
  ref <- fromJSON(file.path("tests/reference/cov", paste0("fev_mmrm_", type, "_reml.json")))
  res <- kr_dense(function(t) theta2cov(type, t), lapply(subj, function(i) vis[i]), ref$params$theta, lapply(subj, function(i) Xf[i, , drop = FALSE]), lapply(subj, function(i) fev$FEV1[i]))
  write_ref(paste0("fev_", type, "_kr_reml"),
            list(formula = "FEV1 ~ RACE + SEX + ARMCD * AVISIT", residual = unname(py_struct[type]), reml = TRUE),
            ref$r, paste("mmrm's theta of", type, "(log sd, f(rho) = u/sqrt(1+u^2) per lag/pair, CS logistic)"),
            res, colnames(Xf))
}

# ---------------------------------------------------------------- Orthodont: nlme fits
o <- ld("orthodont"); Xo <- model.matrix(~ Sex * age_c, o)
so <- split(seq_len(nrow(o)), factor(as.character(o$Subject), levels = unique(as.character(o$Subject))))
Xs <- lapply(so, function(i) Xo[i, , drop = FALSE]); ys <- lapply(so, function(i) o$distance[i])
# random intercept + AR(1): tau = (log sd_b, log sigma, u)
m1 <- lme(distance ~ Sex * age_c, data = o, random = ~ 1 | Subject, correlation = corAR1(form = ~ occ | Subject), method = "REML")
rho <- coef(m1$modelStruct$corStruct, unconstrained = FALSE)[[1]]
tau1 <- c(log(as.numeric(VarCorr(m1)[1, "StdDev"])), log(m1$sigma), f_fwd(rho))
S1 <- function(t) exp(2 * t[1]) + exp(2 * t[2]) * f_inv(t[3])^abs(outer(1:4, 1:4, "-"))
idx1 <- lapply(so, function(i) o$occ[i])
write_ref("orthodont_lme_ri_ar1_kr_reml",
          list(formula = "distance ~ Sex * age_c + (1 | Subject)", residual = 'mf.AR1(time="occ", subject="Subject")', reml = TRUE),
          "lme(distance ~ Sex * age_c, random = ~ 1 | Subject, correlation = corAR1(form = ~ occ | Subject), method = 'REML')",
          "(log sd of the random intercept, log sigma, u = rho/sqrt(1-rho^2))", kr_dense(S1, idx1, tau1, Xs, ys), colnames(Xo))
# CS & VarIdent(Sex): tau = (log sigma (Female, nlme's reference), CS logistic of rho with m = 4, log sd ratio Male/Female)
m2 <- gls(distance ~ Sex * age_c, data = o, correlation = corCompSymm(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | Sex), method = "REML")
r2 <- coef(m2$modelStruct$corStruct, unconstrained = FALSE)[[1]]; d2 <- coef(m2$modelStruct$varStruct, unconstrained = FALSE)[[1]]
a <- 1 / 3; x <- (r2 + a) / (1 + a)
tau2 <- c(log(m2$sigma), log(x / (1 - x)), log(d2))
# base matrix: Male visits 1-4, then Female visits 1-4 (block diagonal)
S2 <- function(t) { r <- plogis(t[2]) * (1 + a) - a; C <- matrix(r, 4, 4); diag(C) <- 1
  s <- exp(t[1]); S <- matrix(0, 8, 8); S[1:4, 1:4] <- (s * exp(t[3]))^2 * C; S[5:8, 5:8] <- s^2 * C; S }
idx2 <- lapply(so, function(i) o$occ[i] + ifelse(o$Sex[i] == "Female", 4L, 0L))
write_ref("orthodont_gls_cs_varident_kr_reml",
          list(formula = "distance ~ Sex * age_c", residual = 'mf.CompoundSymmetry(subject="Subject") & mf.VarIdent("Sex")', reml = TRUE),
          "gls(distance ~ Sex * age_c, correlation = corCompSymm(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | Sex), method = 'REML')",
          "(log sigma of Female (nlme's reference level), CS logistic map (a = 1/3), log sd ratio Male/Female)", kr_dense(S2, idx2, tau2, Xs, ys), colnames(Xo))

# ---------------------------------------------------------------- BodyWeight: correlated random slope + CAR(1) & VarPower
# tau = (log Lc11, log Lc22, Lc21 / Lc22, log sigma, kappa, delta): Lc = chol(G) (mmrm's us scale for G),
# CAR(1) phi = exp(-exp(kappa)) per unit of time (kappa the log decay rate), sd multiplier Time^delta
bw <- ld("bodyweight")
m3 <- lme(weight ~ Time * Diet, data = bw, random = ~ Time | Rat, weights = varPower(form = ~ Time),
          correlation = corCAR1(form = ~ Time | Rat), method = "REML")
G <- getVarCov(m3); Lc <- t(chol(G))
phi3 <- coef(m3$modelStruct$corStruct, unconstrained = FALSE)[[1]]
del3 <- coef(m3$modelStruct$varStruct, unconstrained = FALSE)[[1]]
tau3 <- c(log(Lc[1, 1]), log(Lc[2, 2]), Lc[2, 1] / Lc[2, 2], log(m3$sigma), log(-log(phi3)), del3)
times <- sort(unique(bw$Time)); Zb <- cbind(1, times)
S3 <- function(t) { L <- matrix(c(exp(t[1]), t[3] * exp(t[2]), 0, exp(t[2])), 2, 2)
  s <- exp(t[4]) * times^t[6]; C <- exp(-exp(t[5]) * abs(outer(times, times, "-")))
  Zb %*% L %*% t(L) %*% t(Zb) + outer(s, s) * C }
sb <- split(seq_len(nrow(bw)), factor(as.character(bw$Rat), levels = unique(as.character(bw$Rat))))
Xb <- model.matrix(~ Time * Diet, bw)
write_ref("bodyweight_lme_slope_car1_varpower_kr_reml",
          list(formula = "weight ~ Time * Diet + (1 + Time | Rat)", residual = 'mf.CAR1(time="Time", subject="Rat") & mf.VarPower(covariate="Time")', reml = TRUE),
          "lme(weight ~ Time * Diet, random = ~ Time | Rat, weights = varPower(form = ~ Time), correlation = corCAR1(form = ~ Time | Rat), method = 'REML')",
          "(log Lc11, log Lc22, Lc21/Lc22 of Lc = chol(G); log sigma; log CAR(1) decay rate; power delta)",
          kr_dense(S3, lapply(sb, function(i) match(bw$Time[i], times)), tau3, lapply(sb, function(i) Xb[i, , drop = FALSE]), lapply(sb, function(i) bw$weight[i])),
          colnames(Xb))
