# Held-out references for residual covariance structures (issue 12): nlme fits on data NOT used
# by tests/reference/cov (Oats, Wheat2, Spruce, Soybean, MathAchieve subset, sleepstudy with
# deletions, simulated repeated measures). Same JSON layout as tests/reference/cov/*.json, plus
#   params_py : the structure's parameters under mixedfit's names (nlme's constrained scale;
#               Toeplitz = lag correlations from corARMA(p = m-1)'s ACF; variance ratios as nlme
#               stores them -- compare them as ratios, their reference level may differ)
#   optimum   : the default nlme fit and a restart with tight control; the reference is the better
# Run from the repository root:  Rscript tests/reference/cov_heldout/make_heldout.R
suppressMessages({library(nlme); library(jsonlite); library(lme4)})
OUT <- "tests/reference/cov_heldout"; DAT <- "tests/data/cov"
schema <- list()

save_data <- function(name, d, factors) {
  file <- paste0("heldout_", name, ".csv")
  write.csv(d, file.path(DAT, file), row.names = FALSE, na = "")
  schema[[name]] <<- list(file = file, nrow = nrow(d),
                          factors = setNames(lapply(factors, function(f) levels(d[[f]])), factors))
  back <- read.csv(file.path(DAT, file), stringsAsFactors = FALSE)
  for (f in factors) back[[f]] <- factor(as.character(back[[f]]), levels = levels(d[[f]]))
  back
}

# ---- data --------------------------------------------------------------------------------
oats <- as.data.frame(Oats)
oats$Block <- factor(as.character(oats$Block), levels = c("I", "II", "III", "IV", "V", "VI"))
oats$Variety <- factor(as.character(oats$Variety), levels = levels(Oats$Variety))
oats$plot <- factor(paste(oats$Block, oats$Variety, sep = "/"))
oats$nit <- as.integer(round(oats$nitro * 5)) + 1L          # 1..4
oats <- oats[order(oats$plot, oats$nitro), c("yield", "nitro", "nit", "Block", "Variety", "plot")]
oats <- save_data("oats", oats, c("Block", "Variety", "plot"))

wheat <- as.data.frame(Wheat2)
wheat$variety <- factor(as.character(wheat$variety), levels = levels(Wheat2$variety))
wheat$Block <- factor(as.character(wheat$Block), levels = c("1", "2", "3", "4"))
wheat <- save_data("wheat2", wheat[, c("yield", "variety", "Block", "latitude", "longitude")],
                   c("variety", "Block"))

spruce <- as.data.frame(Spruce)
spruce$Tree <- factor(as.character(spruce$Tree), levels = sort(unique(as.character(spruce$Tree))))
spruce$plot <- factor(as.character(spruce$plot), levels = c("1", "2", "3", "4"))
spruce$t <- (spruce$days - 152) / 100                      # time in 100 days
spruce$occ <- as.integer(factor(spruce$days))              # 1..13
spruce <- spruce[order(spruce$Tree, spruce$days), c("logSize", "t", "occ", "days", "Tree", "plot")]
spruce <- save_data("spruce", spruce, c("Tree", "plot"))

soy <- as.data.frame(Soybean)
soy$Plot <- factor(as.character(soy$Plot), levels = sort(unique(as.character(soy$Plot))))
soy$Variety <- factor(as.character(soy$Variety), levels = c("F", "P"))
soy$Year <- factor(as.character(soy$Year), levels = c("1988", "1989", "1990"))
soy$lw <- log(soy$weight); soy$tw <- soy$Time / 7         # weeks, positive
soy <- soy[order(soy$Plot, soy$Time), c("lw", "tw", "Time", "Plot", "Variety", "Year")]
soy <- save_data("soybean", soy, c("Plot", "Variety", "Year"))

ma <- as.data.frame(MathAchieve)
schools <- sort(unique(as.character(ma$School)))[seq(1, 160, by = 8)]   # 20 schools
ma <- ma[as.character(ma$School) %in% schools, ]
ma$School <- factor(as.character(ma$School), levels = schools)
ma$Minority <- factor(as.character(ma$Minority), levels = c("No", "Yes"))
ma$Sex <- factor(as.character(ma$Sex), levels = c("Male", "Female"))
ma <- ma[order(ma$School), c("MathAch", "SES", "Minority", "Sex", "School")]
ma <- save_data("mathach", ma, c("School", "Minority", "Sex"))

set.seed(20261206)
ss <- sleepstudy
ss <- ss[-sample(nrow(ss), 30), ]                           # unbalanced: 30 of 180 rows deleted
ss$Subject <- factor(as.character(ss$Subject), levels = levels(sleepstudy$Subject))
ss <- save_data("sleepstudy_del", ss[order(ss$Subject, ss$Days), c("Reaction", "Days", "Subject")],
                "Subject")

# simulated repeated measures: character ids, unequal cluster sizes (missed visits), visit as a
# factor whose level order is not alphabetical, integer visit numbers with gaps (1,2,3,5,7)
set.seed(12)
vis <- c("Screening", "Week2", "Week6", "Week12", "Week24")
ns <- 70; m <- length(vis)
ids <- sprintf("pt-%03d", sample(900, ns))
arm <- factor(ifelse(seq_len(ns) %% 2 == 0, "Placebo", "Active"), levels = c("Placebo", "Active"))
Sg <- outer(1:m, 1:m, function(i, j) 0.75^abs(i - j)) * outer(c(1, 1.1, 1.3, 1.5, 1.8), c(1, 1.1, 1.3, 1.5, 1.8))
sim <- do.call(rbind, lapply(seq_len(ns), function(i) {
  e <- drop(t(chol(Sg)) %*% rnorm(m)) * 2 + rnorm(1, 0, 1)
  data.frame(id = ids[i], arm = arm[i], visit = vis, vnum = c(1L, 2L, 3L, 5L, 7L),
             week = c(0, 2, 6, 12, 24), dose = round(runif(m, 0.5, 4), 2), x = round(rnorm(m), 2),
             y = 10 + 0.3 * (arm[i] == "Active") * (1:m) + 0.5 * (1:m) + e)
}))
sim$y[rbinom(nrow(sim), 1, 0.12) == 1] <- NA                # missed visits (gaps)
sim$y[sim$id %in% ids[1:6] & sim$visit %in% c("Week12", "Week24")] <- NA   # dropouts
sim$visit <- factor(sim$visit, levels = vis)                # not alphabetical
sim$id <- factor(sim$id, levels = sort(ids))
sim$vpos <- as.integer(sim$visit)
sim <- sim[order(sim$id, sim$vpos), ]
sim <- save_data("sim", sim, c("id", "arm", "visit"))
sim$vpos <- as.integer(sim$visit)

# ---- fitting and writing -----------------------------------------------------------------
tight_gls <- glsControl(maxIter = 1000, msMaxIter = 1000, tolerance = 1e-10, msTol = 1e-12,
                        returnObject = TRUE)
tight_lme <- lmeControl(maxIter = 1000, msMaxIter = 1000, niterEM = 100, msMaxEval = 5000,
                        tolerance = 1e-10, msTol = 1e-12, returnObject = TRUE)
num <- function(x) unname(as.numeric(x))

struct_params <- function(fit) {
  ms <- fit$modelStruct; out <- list()
  if (!is.null(ms$corStruct)) {
    cs <- ms$corStruct
    out$corStruct <- c(list(class = class(cs)[1]), as.list(coef(cs, unconstrained = FALSE)))
  }
  if (!is.null(ms$varStruct)) {
    vs <- ms$varStruct
    v <- if (inherits(vs, "varIdent")) coef(vs, unconstrained = FALSE, allCoef = TRUE)
         else coef(vs, unconstrained = FALSE)
    out$varStruct <- c(list(class = class(vs)[1]), as.list(v))
  }
  out
}

random_params <- function(fit) {
  if (!inherits(fit, "lme")) return(NULL)
  vc <- lapply(rev(names(fit$modelStruct$reStruct)), function(g) {
    pd <- as.matrix(fit$modelStruct$reStruct[[g]]) * fit$sigma^2
    list(sd = as.list(setNames(sqrt(diag(pd)), colnames(pd))), cor = unname(cov2cor(pd)))
  })
  setNames(vc, rev(names(fit$modelStruct$reStruct)))
}

rcov_block <- function(fit, d, subject, subj_col) {
  if (is.null(subject)) return(NULL)
  resp <- all.vars(formula(fit))[1]
  rows_all <- which(d[[subj_col]] == subject)
  rows <- which(!is.na(d[[resp]][rows_all]))
  M <- if (inherits(fit, "lme")) getVarCov(fit, individuals = subject, type = "conditional")[[1]]
       else if (is.null(fit$modelStruct$corStruct)) {   # gls, rows independent: sigma^2 / w^2
         used <- which(!is.na(d[[resp]]))              # gls keeps the data order without a grouping
         w <- varWeights(fit$modelStruct$varStruct)[match(rows_all[rows], used)]
         diag(fit$sigma^2 / w^2, length(w))
       } else getVarCov(fit, individual = subject)
  list(subject = subject, rows = rows, matrix = unname(as.matrix(M)[, , drop = FALSE]))
}

# Satterthwaite df of each coefficient for a gls REML fit, computed as a checker would without
# mmrm: phi = (nlme's unconstrained structure parameters, log sigma); W = inverse of the observed
# Hessian of the REML log-likelihood (numDeriv, Richardson) and the gradient of Var(beta_k) in phi,
# each evaluated by gls with the structure held fixed; df_k = 2 Var_k^2 / (g' W g). (emmeans'
# mode = "satterthwaite" falls back to "appx-satterthwaite" for these fits, 1.5 % off on UN.)
satt_df <- function(fit) {
  suppressMessages(library(numDeriv))
  N <- fit$dims$N; p <- fit$dims$p; u0 <- coef(fit$modelStruct)
  fixed_fit <- function(u) {
    st <- fit$modelStruct; coef(st) <- u; args <- list()
    if (!is.null(st$corStruct)) { cs <- st$corStruct; attr(cs, "fixed") <- TRUE; args$correlation <- cs }
    if (!is.null(st$varStruct)) {
      stopifnot(inherits(st$varStruct, "varIdent"))
      args$weights <- varIdent(form = formula(st$varStruct), fixed = coef(st$varStruct, unconstrained = FALSE))
    }
    do.call(update, c(list(fit), args))
  }
  ll <- function(phi) {  # the REML log-likelihood at sigma = exp(phi[last]) (nlme's is profiled)
    g <- fixed_fit(phi[-length(phi)]); s <- exp(phi[length(phi)]); sh <- g$sigma
    as.numeric(logLik(g)) - (N - p) * log(s / sh) - (N - p) / 2 * (sh^2 / s^2 - 1)
  }
  vk <- function(phi) { g <- fixed_fit(phi[-length(phi)]); diag(vcov(g)) * exp(2 * phi[length(phi)]) / g$sigma^2 }
  phi0 <- c(u0, log(fit$sigma))
  # derivatives in z, phi = phi0 + z * max(|phi0|, 1): numDeriv steps z from 0 by eps = 1e-4 (with
  # Richardson), i.e. phi by 1e-4 * max(|phi|, 1) -- not 1e-4 * |phi|, all rounding where a parameter
  # is near 0 (ARMA's theta); J W J' is invariant to this scaling
  zero <- rep(0, length(phi0)); sc <- pmax(abs(phi0), 1)
  W <- solve(-hessian(function(z) ll(phi0 + z * sc), zero))
  J <- jacobian(function(z) vk(phi0 + z * sc), zero); v <- vk(phi0)
  setNames(2 * v^2 / rowSums((J %*% W) * J), names(coef(fit)))
}

emit <- function(id, data_name, d, call, python, note = NULL, subject = NULL, subj_col = NULL,
                 py_params = function(fit) list(), restarts = list(), satterthwaite = FALSE) {
  fit0 <- tryCatch(eval(call), error = function(e) NULL)   # NULL: nlme's default stops with an error
  call2 <- call; call2$control <- if (identical(call[[1]], as.name("gls"))) tight_gls else tight_lme
  fit1 <- tryCatch(eval(call2), error = function(e) NULL)
  ll0 <- if (is.null(fit0)) NA else as.numeric(logLik(fit0))
  ll1 <- if (is.null(fit1)) NA else as.numeric(logLik(fit1))
  fit <- if (is.null(fit0) || (!is.na(ll1) && ll1 > ll0)) fit1 else fit0
  ll <- logLik(fit); reml <- fit$method == "REML"
  b <- fixef_or_coef <- if (inherits(fit, "lme")) fixef(fit) else coef(fit)
  se <- sqrt(diag(vcov(fit)))
  p <- length(b); N <- fit$dims$N
  het <- !is.null(fit$modelStruct$varStruct)
  res <- list(
    id = id, data = paste0("heldout_", data_name, ".csv"),
    engine = paste("nlme", packageVersion("nlme")), engine_detail = R.version.string,
    r = paste(deparse(call, width.cutoff = 500L), collapse = " "),
    python = python, reml = reml, nobs = N,
    loglik = as.numeric(ll), objective = -2 * as.numeric(ll),
    npar = list(covariance = attr(ll, "df") - p, package_df = attr(ll, "df"),
                package_counts = "attr(logLik, 'df') = p + covariance parameters (sigma included); AIC = -2 loglik + 2 df"),
    aic_package = AIC(fit),
    beta = as.list(b), se = as.list(se),
    se_convention = if (!reml && inherits(fit, "gls")) "nlme gls ML: vcov scaled by N/(N - p); divide by sqrt(N/(N-p)) for the ML-sigma SE" else "model-based, sqrt(diag((X'V^-1X)^-1)) at the estimates",
    sigma = if (het) NULL else fit$sigma,
    params = c(list(sigma = fit$sigma), struct_params(fit),
               if (inherits(fit, "lme")) list(random = random_params(fit)) else list()),
    params_py = py_params(fit),
    residual_cov = rcov_block(fit, d, subject, subj_col),
    df = if (satterthwaite) as.list(satt_df(fit)) else NULL,
    ddf = if (satterthwaite) "satterthwaite" else NULL,
    optimum = list(loglik_default = ll0, loglik_tight = ll1,
                   diff = ll1 - ll0,
                   restarts = lapply(restarts, function(cl) {  # other starts: other stationary points
                     f <- eval(cl)
                     list(r = paste(deparse(cl, width.cutoff = 500L), collapse = " "),
                          loglik = as.numeric(logLik(f)), beta = as.list(coef(f)),
                          se = as.list(sqrt(diag(vcov(f)))), sigma = f$sigma, params_py = py_params(f))
                   })),
    note = note,
    conventions = "loglik on the nlme/SAS scale (REML: -REMLcrit/2 of lme4); see make_heldout.R")
  res <- res[!vapply(res, is.null, TRUE) | names(res) == "sigma"]
  writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
             file.path(OUT, paste0(id, ".json")))
  cat(sprintf("%-40s loglik %.6f  (default %.6f, tight %s)\n", id, as.numeric(ll), ll0, format(ll1, digits = 12)))
  invisible(fit)
}

py <- function(formula, residual, reml = TRUE) list(formula = formula, residual = residual, reml = reml)
phi <- function(fit) list(Phi = num(coef(fit$modelStruct$corStruct, unconstrained = FALSE)))
rho <- function(fit) list(Rho = num(coef(fit$modelStruct$corStruct, unconstrained = FALSE)))
toep <- function(fit) {
  a <- coef(fit$modelStruct$corStruct, unconstrained = FALSE)
  r <- ARMAacf(ar = a, lag.max = length(a))[-1]
  setNames(as.list(num(r)), paste0("Rho", seq_along(r)))
}
arma <- function(fit) as.list(coef(fit$modelStruct$corStruct, unconstrained = FALSE))
vp <- function(fit) { v <- coef(fit$modelStruct$varStruct, unconstrained = FALSE); as.list(v) }
ratios <- function(fit) as.list(coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE))
sp <- function(fit) as.list(coef(fit$modelStruct$corStruct, unconstrained = FALSE))
pw <- function(fit) list(power = num(coef(fit$modelStruct$varStruct, unconstrained = FALSE)))
ex <- function(fit) list(expon = num(coef(fit$modelStruct$varStruct, unconstrained = FALSE)))
un <- function(fit) {  # corSymm + varIdent(visit) under mixedfit's names: cor(i,j), each level's sd ratio
  r <- num(coef(fit$modelStruct$corStruct, unconstrained = FALSE)); m <- (1 + sqrt(1 + 8 * length(r))) / 2
  idx <- which(upper.tri(diag(m)), arr.ind = TRUE); idx <- idx[order(idx[, 1], idx[, 2]), ]  # nlme: (1,2),(1,3),...
  cors <- setNames(as.list(r), sprintf("cor(%d,%d)", idx[, 2], idx[, 1]))
  v <- coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)[levels(sim$visit)]
  c(cors, as.list(v))  # by level, to nlme's reference (the first row after sorting by subject)
}
both <- function(...) { fs <- list(...); function(fit) do.call(c, lapply(fs, function(f) f(fit))) }

SIMF <- "y ~ arm * visit"
sim_f <- y ~ arm * visit
cnt <- tapply(!is.na(sim$y), sim$id, sum)
S1 <- names(cnt)[cnt == 3][1]   # a subject with missed visits: its residual_cov block has gaps

# simulated repeated measures (gls, REML unless named ml)
emit("sim_gls_un_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corSymm(form = ~ vpos | id), weights = varIdent(form = ~ 1 | visit), na.action = na.omit)),
     py(SIMF, 'mf.Unstructured(time="visit", subject="id")'), "UN = corSymm + varIdent(visit); visit levels not alphabetical", S1, "id",
     un, satterthwaite = TRUE)
emit("sim_gls_un_ml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corSymm(form = ~ vpos | id), weights = varIdent(form = ~ 1 | visit), method = "ML", na.action = na.omit)),
     py(SIMF, 'mf.Unstructured(time="visit", subject="id")', FALSE), "UN, ML", S1, "id",
     un)
emit("sim_gls_cs_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corCompSymm(form = ~ 1 | id), na.action = na.omit)),
     py(SIMF, 'mf.CompoundSymmetry(subject="id")'), "CS", S1, "id", rho, satterthwaite = TRUE)
emit("sim_gls_csh_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corCompSymm(form = ~ 1 | id), weights = varIdent(form = ~ 1 | visit), na.action = na.omit)),
     py(SIMF, 'mf.CompoundSymmetry(subject="id", time="visit", heterogeneous=True)'), "CSH = corCompSymm + varIdent(visit)", S1, "id", both(rho, ratios), satterthwaite = TRUE)
emit("sim_gls_ar1_vnum_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corAR1(form = ~ vnum | id), na.action = na.omit)),
     py(SIMF, 'mf.AR1(time="vnum", subject="id")'), "AR1 over integer visit numbers 1,2,3,5,7 (gaps kept: nlme switches to corARMA(1,0) with lag = difference)", S1, "id",
     function(fit) list(Phi = num(coef(fit$modelStruct$corStruct, unconstrained = FALSE))), satterthwaite = TRUE)
emit("sim_gls_ar1_visit_ml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corAR1(form = ~ vpos | id), method = "ML", na.action = na.omit)),
     py(SIMF, 'mf.AR1(time="visit", subject="id")', FALSE), "AR1 over the visit factor's level positions, ML", S1, "id", phi)
emit("sim_gls_arh1_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corAR1(form = ~ vpos | id), weights = varIdent(form = ~ 1 | visit), na.action = na.omit)),
     py(SIMF, 'mf.AR1(time="visit", subject="id", heterogeneous=True)'), "ARH1 = corAR1 + varIdent(visit)", S1, "id", both(phi, ratios), satterthwaite = TRUE)
emit("sim_gls_car1_week_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corCAR1(form = ~ week | id), na.action = na.omit)),
     py(SIMF, 'mf.CAR1(time="week", subject="id")'), "CAR1 over weeks 0,2,6,12,24", S1, "id", phi, satterthwaite = TRUE)
emit("sim_gls_arma11_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corARMA(form = ~ vpos | id, p = 1, q = 1), na.action = na.omit)),
     py(SIMF, 'mf.ARMA(time="visit", subject="id", p=1, q=1)'), "ARMA(1,1)", S1, "id", arma, satterthwaite = TRUE)
emit("sim_gls_toep_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corARMA(form = ~ vpos | id, p = 4), na.action = na.omit)),
     py(SIMF, 'mf.Toeplitz(time="visit", subject="id")'), "TOEP = corARMA(p = m - 1) (same model; params_py are its lag correlations)", S1, "id", toep, satterthwaite = TRUE)
emit("sim_gls_toeph_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corARMA(form = ~ vpos | id, p = 4), weights = varIdent(form = ~ 1 | visit), na.action = na.omit)),
     py(SIMF, 'mf.Toeplitz(time="visit", subject="id", heterogeneous=True)'), "TOEPH = corARMA(p = m - 1) + varIdent(visit)", S1, "id", both(toep, ratios), satterthwaite = TRUE)
emit("sim_gls_varident_arm_reml", "sim", sim, quote(gls(sim_f, data = sim, weights = varIdent(form = ~ 1 | arm), na.action = na.omit)),
     py(SIMF, 'mf.VarIdent("arm")'), "VarIdent alone (rows independent)", NULL, NULL, ratios, satterthwaite = TRUE)
emit("sim_gls_varpower_by_reml", "sim", sim, quote(gls(sim_f, data = sim, weights = varPower(form = ~ dose | arm), na.action = na.omit)),
     py(SIMF, 'mf.VarPower("dose", by="arm")'), "VarPower with by=: one power per arm", NULL, NULL,
     function(fit) { v <- coef(fit$modelStruct$varStruct, unconstrained = FALSE); setNames(as.list(num(v)), paste0("power:", names(v))) })
emit("sim_gls_ar1_varpower_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corAR1(form = ~ vpos | id), weights = varPower(form = ~ dose), na.action = na.omit)),
     py(SIMF, 'mf.AR1(time="visit", subject="id") & mf.VarPower("dose")'), "AR1 & VarPower", S1, "id", both(phi, pw))
emit("sim_gls_cs_varexp_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corCompSymm(form = ~ 1 | id), weights = varExp(form = ~ x), na.action = na.omit)),
     py(SIMF, 'mf.CompoundSymmetry(subject="id") & mf.VarExp("x")'), "CS & VarExp (x takes negative values)", S1, "id", both(rho, ex))
emit("sim_gls_csh_varident_arm_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corCompSymm(form = ~ 1 | id), weights = varComb(varIdent(form = ~ 1 | visit), varIdent(form = ~ 1 | arm)), na.action = na.omit)),
     py(SIMF, 'mf.CompoundSymmetry(subject="id", time="visit", heterogeneous=True) & mf.VarIdent("arm")'), "CSH & VarIdent(arm) (nlme varComb)", S1, "id", rho)
emit("sim_lme_ri_ar1_reml", "sim", sim, quote(lme(y ~ arm * visit, data = sim, random = ~ 1 | id, correlation = corAR1(form = ~ vpos | id), na.action = na.omit)),
     py("y ~ arm * visit + (1 | id)", 'mf.AR1(time="visit", subject="id")'), "random intercept + AR1", S1, "id", phi)
emit("sim_lme_ri_car1_varpower_ml", "sim", sim, quote(lme(y ~ arm * week, data = sim, random = ~ 1 | id, correlation = corCAR1(form = ~ week | id), weights = varPower(form = ~ dose), method = "ML", na.action = na.omit)),
     py("y ~ arm * week + (1 | id)", 'mf.CAR1(time="week", subject="id") & mf.VarPower("dose")', FALSE), "random intercept + CAR1 & VarPower, ML", S1, "id", both(phi, pw))

emit("sim_gls_gaus1d_nugget_reml", "sim", sim, quote(gls(sim_f, data = sim, correlation = corGaus(c(10, 0.2), form = ~ week | id, nugget = TRUE), na.action = na.omit)),
     py(SIMF, 'mf.Spatial(["week"], subject="id", kind="gaussian", nugget=True)'), "Gaussian + nugget on one coordinate (weeks) within subjects", S1, "id", sp)

# Oats: split plot, plots = Block/Variety, nitrogen 0, .2, .4, .6
emit("oats_gls_car1_reml", "oats", oats, quote(gls(yield ~ Variety * nitro, data = oats, correlation = corCAR1(form = ~ nitro | plot))),
     py("yield ~ Variety * nitro", 'mf.CAR1(time="nitro", subject="plot")'), "CAR1 over nitro (non-integer times)", "I/Victory", "plot", phi)
emit("oats_lme_nested_ar1_reml", "oats", oats, quote(lme(yield ~ Variety * nitro, data = oats, random = ~ 1 | Block / Variety, correlation = corAR1(form = ~ nit | Block / Variety))),
     py("yield ~ Variety * nitro + (1 | Block) + (1 | Block:Variety)", 'mf.AR1(time="nit", subject="plot")'), "nested random intercepts + AR1 within plots", NULL, NULL, phi)
emit("oats_lme_ri_cs_ml", "oats", oats, quote(lme(yield ~ Variety * nitro, data = oats, random = ~ 1 | Block, correlation = corCompSymm(form = ~ 1 | Block / Variety), method = "ML")),
     py("yield ~ Variety * nitro + (1 | Block)", 'mf.CompoundSymmetry(subject="plot")', FALSE), "random block intercept + CS within plots (the split-plot model), ML", NULL, NULL, rho)

# Wheat2: spatial, one field (no subject)
wf <- yield ~ variety - 1
emit("wheat2_gls_spher_nugget_reml", "wheat2", wheat, quote(gls(wf, data = wheat, correlation = corSpher(c(28, 0.2), form = ~ latitude + longitude, nugget = TRUE))),
     py("yield ~ 0 + variety", 'mf.Spatial(["latitude", "longitude"], kind="spherical", nugget=True)'), "P&B fm3Wheat2 (their start c(28, 0.2)); see optimum$restarts: from c(36, 0.18) nlme reaches a better interior optimum, from c(20, 0.2) the ridge range -> Inf, nugget ~ 1/range (a linear variogram) with a higher likelihood still", NULL, NULL, sp,
     restarts = list(quote(gls(wf, data = wheat, correlation = corSpher(c(36, 0.18), form = ~ latitude + longitude, nugget = TRUE))),
                     quote(gls(wf, data = wheat, correlation = corSpher(c(20, 0.2), form = ~ latitude + longitude, nugget = TRUE)))))
# (corExp with nugget over the whole field: nlme stops with "false convergence" from every start tried)
emit("wheat2_gls_exp_reml", "wheat2", wheat, quote(gls(wf, data = wheat, correlation = corExp(10, form = ~ latitude + longitude))),
     py("yield ~ 0 + variety", 'mf.Spatial(["latitude", "longitude"], kind="exponential")'), "exponential, no nugget", NULL, NULL, sp)
emit("wheat2_gls_gaus_nugget_ml", "wheat2", wheat, quote(gls(wf, data = wheat, correlation = corGaus(c(10, 0.2), form = ~ latitude + longitude, nugget = TRUE), method = "ML")),
     py("yield ~ 0 + variety", 'mf.Spatial(["latitude", "longitude"], kind="gaussian", nugget=True)', FALSE), "Gaussian with nugget, ML", NULL, NULL, sp)
emit("wheat2_gls_exp_nugget_block_reml", "wheat2", wheat, quote(gls(wf, data = wheat, correlation = corExp(c(10, 0.2), form = ~ latitude + longitude | Block, nugget = TRUE))),
     py("yield ~ 0 + variety", 'mf.Spatial(["latitude", "longitude"], subject="Block", kind="exponential", nugget=True)'), "exponential + nugget within blocks", "1", "Block", sp)

# Spruce: 79 trees x 13 occasions (days with gaps)
emit("spruce_lme_ri_car1_reml", "spruce", spruce, quote(lme(logSize ~ t * plot, data = spruce, random = ~ 1 | Tree, correlation = corCAR1(form = ~ t | Tree))),
     py("logSize ~ t * plot + (1 | Tree)", 'mf.CAR1(time="t", subject="Tree")'), "time in 100 days since the first occasion", "O1T01", "Tree", phi)
emit("spruce_lme_slope_ar1_ml", "spruce", spruce, quote(lme(logSize ~ t * plot, data = spruce, random = ~ t | Tree, correlation = corAR1(form = ~ occ | Tree), method = "ML")),
     py("logSize ~ t * plot + (t | Tree)", 'mf.AR1(time="occ", subject="Tree")', FALSE), "random slope + AR1 over occasions, ML", "O1T01", "Tree", phi)

# Soybean: varPower by Variety with random intercept per plot
emit("soybean_lme_ri_varpower_by_reml", "soybean", soy, quote(lme(lw ~ tw * Variety + Year, data = soy, random = ~ 1 | Plot, weights = varPower(form = ~ tw | Variety))),
     py("lw ~ tw * Variety + Year + (1 | Plot)", 'mf.VarPower("tw", by="Variety")'), "VarPower(by=) + random intercept", "1988F1", "Plot",
     function(fit) { v <- coef(fit$modelStruct$varStruct, unconstrained = FALSE); setNames(as.list(num(v)), paste0("power:", names(v))) })
emit("soybean_lme_ri_ar1_varexp_reml", "soybean", soy, quote(lme(lw ~ tw * Variety + Year, data = soy, random = ~ 1 | Plot, correlation = corCAR1(form = ~ tw | Plot), weights = varExp(form = ~ tw))),
     py("lw ~ tw * Variety + Year + (1 | Plot)", 'mf.CAR1(time="tw", subject="Plot") & mf.VarExp("tw")'), "CAR1 & VarExp + random intercept", "1988F1", "Plot", both(phi, ex))

# MathAchieve (20 schools): random intercept + VarIdent / VarExp on SES (negative values)
emit("mathach_lme_ri_varident_ml", "mathach", ma, quote(lme(MathAch ~ SES + Minority + Sex, data = ma, random = ~ 1 | School, weights = varIdent(form = ~ 1 | Minority), method = "ML")),
     py("MathAch ~ SES + Minority + Sex + (1 | School)", 'mf.VarIdent("Minority")', FALSE), "VarIdent with a random intercept, ML", schools[1], "School", ratios)
emit("mathach_lme_slope_varexp_reml", "mathach", ma, quote(lme(MathAch ~ SES + Minority + Sex, data = ma, random = ~ SES | School, weights = varExp(form = ~ SES))),
     py("MathAch ~ SES + Minority + Sex + (SES | School)", 'mf.VarExp("SES")'), "VarExp on SES with a random slope", schools[1], "School", ex)

# sleepstudy with 30 rows deleted: Days integer with gaps within subjects
emit("sleepdel_lme_slope_ar1_reml", "sleepstudy_del", ss, quote(lme(Reaction ~ Days, data = ss, random = ~ Days | Subject, correlation = corAR1(form = ~ Days | Subject))),
     py("Reaction ~ Days + (Days | Subject)", 'mf.AR1(time="Days", subject="Subject")'), "random slope + AR1 with gaps", "308", "Subject", phi)
emit("sleepdel_lme_slope_ar1_ml", "sleepstudy_del", ss, quote(lme(Reaction ~ Days, data = ss, random = ~ Days | Subject, correlation = corAR1(form = ~ Days | Subject), method = "ML")),
     py("Reaction ~ Days + (Days | Subject)", 'mf.AR1(time="Days", subject="Subject")', FALSE), "random slope + AR1 with gaps, ML", "308", "Subject", phi)
emit("sleepdel_lme_ri_arma21_reml", "sleepstudy_del", ss, quote(lme(Reaction ~ Days, data = ss, random = ~ 1 | Subject, correlation = corARMA(form = ~ Days | Subject, p = 2, q = 1))),
     py("Reaction ~ Days + (1 | Subject)", 'mf.ARMA(time="Days", subject="Subject", p=2, q=1)'), "random intercept + ARMA(2,1) with gaps", "308", "Subject", arma)

writeLines(toJSON(schema, auto_unbox = TRUE, pretty = TRUE), file.path(DAT, "heldout_schema.json"))

# ---- by= groups for correlation structures: glmmTMB (nlme has no grouped corStruct) ----------
# One structured term per arm on indicator-weighted visit columns, dispformula = ~ 0 (the residual
# is the structured term; glmmTMB keeps a dispersion of sigma(fit)^2 ~ 1.5e-8 on the diagonal).
# glmmTMB 1.1.5's cs and toep are heterogeneous (CSH, TOEPH); ar1 is homogeneous; us is UN.
suppressMessages(library(glmmTMB))
sim$pbo <- as.numeric(sim$arm == "Placebo"); sim$act <- 1 - sim$pbo

tmb_block <- function(fit, subject) {
  d <- sim[sim$id == subject, ]; obs <- which(!is.na(d$y))
  arm <- as.character(d$arm[1]); k <- if (arm == "Placebo") 1 else 2
  S <- VarCorr(fit)$cond[[k]]
  M <- S[as.integer(d$visit[obs]), as.integer(d$visit[obs]), drop = FALSE] + diag(sigma(fit)^2, length(obs))
  list(subject = subject, rows = obs, matrix = unname(M))
}

tmb_params <- function(fit, kind) {
  out <- list()
  for (k in 1:2) {
    lev <- c("Placebo", "Active")[k]; C <- attr(VarCorr(fit)$cond[[k]], "correlation")
    m <- nrow(C)
    if (kind == "ar1") out[[paste0(lev, ":Phi")]] <- C[1, 2]
    if (kind == "cs") out[[paste0(lev, ":Rho")]] <- C[1, 2]
    if (kind == "toep") for (l in 1:(m - 1)) out[[sprintf("%s:Rho%d", lev, l)]] <- C[1, 1 + l]
    if (kind == "us") for (i in 2:m) for (j in 1:(i - 1)) out[[sprintf("%s:cor(%d,%d)", lev, i, j)]] <- C[i, j]
  }
  out
}

tmb_model_se <- function(fit) {  # sqrt(diag((X'V^-1 X)^-1)) with V from glmmTMB's estimates
  X <- model.matrix(~ arm * visit, sim); keep <- !is.na(sim$y)
  A <- matrix(0, ncol(X), ncol(X))
  for (s in levels(sim$id)) {
    r <- which(sim$id == s & keep); if (!length(r)) next
    A <- A + crossprod(X[r, , drop = FALSE], solve(tmb_block(fit, s)$matrix, X[r, , drop = FALSE]))
  }
  sqrt(diag(solve(A)))
}

emit_tmb <- function(id, kind, python, note, reml = TRUE) {
  fml <- as.formula(sprintf("y ~ arm * visit + %s(0 + visit:pbo | id) + %s(0 + visit:act | id)", kind, kind))
  fit <- glmmTMB(fml, data = sim, dispformula = ~ 0, REML = reml)
  ll <- logLik(fit); b <- fixef(fit)$cond; p <- length(b)
  cnt <- tapply(!is.na(sim$y), sim$id, sum)
  full <- names(cnt)[cnt == nlevels(sim$visit)]
  firsts <- c(full[sim$arm[match(full, sim$id)] == "Placebo"][1], full[sim$arm[match(full, sim$id)] == "Active"][1])
  res <- list(
    id = id, data = "heldout_sim.csv", engine = paste("glmmTMB", packageVersion("glmmTMB")),
    engine_detail = R.version.string,
    r = sprintf("glmmTMB(%s, data = sim, dispformula = ~ 0, REML = %s)", paste(deparse(fml, width.cutoff = 500L), collapse = " "), reml),
    python = python, reml = reml, nobs = sum(!is.na(sim$y)),
    loglik = as.numeric(ll), objective = -2 * as.numeric(ll),
    npar = list(covariance = attr(ll, "df") - p, package_df = attr(ll, "df"),
                package_counts = "glmmTMB attr(logLik, 'df') = p + theta (the dispersion fixed by dispformula = ~0 is not counted; mixedfit counts sigma^2 and one ratio fewer)"),
    aic_package = AIC(fit),
    beta = as.list(b), se = as.list(setNames(tmb_model_se(fit), names(b))),
    se_glmmTMB = as.list(sqrt(diag(vcov(fit)$cond))),
    se_convention = "se: model-based, sqrt(diag((X'V^-1X)^-1)) with V from glmmTMB's estimates (nlme's convention); se_glmmTMB: glmmTMB's vcov (sdreport of the joint optimum: includes the theta uncertainty through the observed (beta, theta) Hessian, up to 1% larger here)",
    sigma = NULL,
    params = list(terms = lapply(VarCorr(fit)$cond, function(S) list(sd = as.list(attr(S, "stddev")), cor = unname(attr(S, "correlation"))))),
    params_py = tmb_params(fit, kind),
    residual_cov = tmb_block(fit, S1),
    residual_cov_more = lapply(firsts, function(s) tmb_block(fit, s)),
    optimum = list(convergence = fit$fit$convergence, message = fit$fit$message, restarts = list()),
    note = note,
    conventions = "loglik on the nlme/SAS scale; the dispersion (sigma(fit)^2 ~ 1.5e-8) is in residual_cov's diagonal")
  res <- res[!vapply(res, is.null, TRUE) | names(res) == "sigma"]
  writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
             file.path(OUT, paste0(id, ".json")))
  cat(sprintf("%-40s loglik %.6f  (convergence %d)\n", id, as.numeric(ll), fit$fit$convergence))
}

emit_tmb("sim_tmb_ar1_by_arm_reml", "ar1", py(SIMF, 'mf.AR1(time="visit", subject="id", by="arm")'), "AR1 with by=arm: Phi and variance per arm")
emit_tmb("sim_tmb_csh_by_arm_reml", "cs", py(SIMF, 'mf.CompoundSymmetry(subject="id", time="visit", heterogeneous=True, by="arm")'), "CSH with by=arm (glmmTMB cs is heterogeneous)")
emit_tmb("sim_tmb_toeph_by_arm_reml", "toep", py(SIMF, 'mf.Toeplitz(time="visit", subject="id", heterogeneous=True, by="arm")'), "TOEPH with by=arm (glmmTMB toep is heterogeneous)")
emit_tmb("sim_tmb_un_by_arm_ml", "us", py(SIMF, 'mf.Unstructured(time="visit", subject="id", by="arm")', FALSE), "UN with by=arm, ML", reml = FALSE)
