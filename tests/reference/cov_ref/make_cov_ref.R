## nlme's reference level of a variance function (issue 12, reviewer r12's findings 1 and 4):
## sigma, the sd ratios and the loglik of lme/gls fits whose data are not sorted by group.
## Run from this directory: Rscript make_cov_ref.R (nlme 3.1-162, lme4 for sleepstudy).
## Writes sleep_moved.csv, pixel.csv and cov_ref.json; rm.csv is the reviewer's simulated
## repeated-measures data (60 subjects in 5 sites, 6 visits, 40 rows dropped, rows shuffled).
suppressPackageStartupMessages({library(nlme); library(lme4); library(jsonlite)})
out <- list()
put <- function(id, f, data, formula, residual, reml, levels = list()) {
  vs <- f$modelStruct$varStruct
  cs <- f$modelStruct$corStruct
  out[[id]] <<- list(
    id = id, r = paste(deparse(f$call), collapse = " "), data = data, levels = levels,
    python = list(formula = formula, residual = residual, reml = reml),
    loglik = as.numeric(logLik(f)), sigma = f$sigma,
    beta = as.list(if (inherits(f, "lme")) fixef(f) else coef(f)),
    ratios = if (is.null(vs)) NULL else as.list(coef(vs, unconstrained = FALSE, allCoef = TRUE)),
    cor = if (is.null(cs)) NULL else as.list(coef(cs, unconstrained = FALSE)))
}
## A: sleepstudy, its last row (subject 372, day 9) moved to the top; g = early (Days < 5) / late
s <- as.data.frame(sleepstudy); s <- s[c(nrow(s), 1:(nrow(s) - 1)), ]
s$g <- ifelse(s$Days < 5, "early", "late"); s$Subject <- factor(as.character(s$Subject))
write.csv(s, "sleep_moved.csv", row.names = FALSE)
lv <- list(Subject = levels(s$Subject))
f <- lme(Reaction ~ Days, random = ~ 1 | Subject, data = s, weights = varIdent(form = ~ 1 | g), method = "REML")
put("A_sleep_ri_varident", f, "sleep_moved.csv", "Reaction ~ Days + (1 | Subject)", 'mf.VarIdent("g")', TRUE, lv)
f <- lme(Reaction ~ Days, random = ~ Days | Subject, data = s, weights = varIdent(form = ~ 1 | g), method = "ML")
put("A_sleep_slope_varident_ml", f, "sleep_moved.csv", "Reaction ~ Days + (Days | Subject)", 'mf.VarIdent("g")', FALSE, lv)
f <- lme(Reaction ~ Days, random = ~ 1 | Subject, data = s, correlation = corAR1(form = ~ Days | Subject),
         weights = varIdent(form = ~ 1 | g), method = "REML")
put("A_sleep_ri_ar1_varident", f, "sleep_moved.csv", "Reaction ~ Days + (1 | Subject)",
    'mf.AR1(time="Days", subject="Subject") & mf.VarIdent("g")', TRUE, lv)
## gls keeps its rule: sorted by the correlation's subject, else the data's order
f <- gls(Reaction ~ Days, data = s, correlation = corCompSymm(form = ~ 1 | Subject), weights = varIdent(form = ~ 1 | g), method = "REML")
put("A_sleep_gls_cs_varident", f, "sleep_moved.csv", "Reaction ~ Days",
    'mf.CompoundSymmetry(subject="Subject") & mf.VarIdent("g")', TRUE, lv)
f <- gls(Reaction ~ Days, data = s, weights = varIdent(form = ~ 1 | g), method = "REML")
put("A_sleep_gls_varident", f, "sleep_moved.csv", "Reaction ~ Days", 'mf.VarIdent("g")', TRUE, lv)
## B: Pixel (nested Dog/Side; the first row, dog 1, is side R, the first after sorting is L)
px <- as.data.frame(Pixel); px$day2 <- px$day^2
write.csv(px, "pixel.csv", row.names = FALSE)
lv <- list(Dog = levels(Pixel$Dog), Side = levels(Pixel$Side))
f <- lme(pixel ~ day + day2, random = list(Dog = ~ day, Side = ~ 1), data = px, weights = varIdent(form = ~ 1 | Side), method = "REML")
put("B_pixel_nested_varident", f, "pixel.csv", "pixel ~ day + day2 + (day | Dog) + (1 | Dog:Side)", 'mf.VarIdent("Side")', TRUE, lv)
## C: a correlation's subject nested in the random effects' grouping: nlme sorts by site, then id
rm <- read.csv("rm.csv"); rm$visitf <- factor(rm$visitf, levels = paste0("V", 1:6))
rm$site <- factor(rm$site); rm$id <- factor(rm$id); rm$arm <- factor(rm$arm)
lv <- list(visitf = levels(rm$visitf), site = levels(rm$site), id = levels(rm$id), arm = levels(rm$arm))
f <- lme(y ~ visit * arm, random = ~ 1 | site, data = rm, correlation = corCAR1(form = ~ visit | site/id),
         weights = varIdent(form = ~ 1 | visitf), method = "REML")
put("C_rm_site_car1_varident", f, "rm.csv", "y ~ visit * arm + (1 | site)",
    'mf.CAR1(time="visit", subject="id") & mf.VarIdent("visitf")', TRUE, lv)
f <- lme(y ~ visit * arm, random = ~ 1 | site, data = rm, weights = varIdent(form = ~ 1 | visitf), method = "ML")
put("C_rm_site_varident_ml", f, "rm.csv", "y ~ visit * arm + (1 | site)", 'mf.VarIdent("visitf")', FALSE, lv)
## UN, CSH and ARH(1) on the shuffled rows (finding 4): gls sorts by id, whose first row is V5
f <- gls(y ~ visitf * arm, data = rm, correlation = corSymm(form = ~ visit | id), weights = varIdent(form = ~ 1 | visitf), method = "ML")
put("D_rm_gls_un_ml", f, "rm.csv", "y ~ visitf * arm", 'mf.Unstructured(time="visitf", subject="id")', FALSE, lv)
f <- gls(y ~ visitf * arm, data = rm, correlation = corCompSymm(form = ~ 1 | id), weights = varIdent(form = ~ 1 | visitf), method = "REML")
put("D_rm_gls_csh_reml", f, "rm.csv", "y ~ visitf * arm", 'mf.CompoundSymmetry(subject="id", time="visitf", heterogeneous=True)', TRUE, lv)
f <- gls(y ~ visitf * arm, data = rm, correlation = corAR1(form = ~ visit | id), weights = varIdent(form = ~ 1 | visitf), method = "REML")
put("D_rm_gls_arh1_reml", f, "rm.csv", "y ~ visitf * arm", 'mf.AR1(time="visitf", subject="id", heterogeneous=True)', TRUE, lv)
f <- lme(y ~ visitf * arm, random = ~ 1 | site, data = rm, correlation = corSymm(form = ~ visit | site/id),
         weights = varIdent(form = ~ 1 | visitf), method = "REML",
         control = lmeControl(maxIter = 500, msMaxIter = 500))
put("D_rm_site_un_reml", f, "rm.csv", "y ~ visitf * arm + (1 | site)", 'mf.Unstructured(time="visitf", subject="id")', TRUE, lv)
write_json(out, "cov_ref.json", auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null")
