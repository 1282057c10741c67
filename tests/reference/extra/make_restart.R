# lme4 references for fits with several local optima (engine/restart.py): a correlated random
# slope on a covariate in the hundreds to thousands, on two of base R's data sets (ML).
#   Orange: circumference ~ 1 + (age | Tree), age 118-1582
#   CO2:    uptake ~ Type + conc + (conc | Plant), conc 95-1000
# lme4's default optimizer (nloptwrap) stops at a worse local optimum on both (Orange: 292.6822,
# a boundary fit; CO2: 552.4118, failing its own derivative check), as does nlminbwrap
# (293.7330 and 552.4314, where mixedfit's moment start used to end, reported converged).
# The reference is lme4's own best optimum: minqa's BOBYQA with a tight final trust radius
# (rhoend = 1e-12), which Nelder_Mead with tight tolerances confirms (same criterion to 1e-10);
# the default optimizer's results are stored alongside (fields "nloptwrap", "nlminbwrap").
# Run from the project root: Rscript tests/reference/extra/make_restart.R  (lme4 1.1-31);
# it also writes the data to tests/data/orange.csv and tests/data/co2.csv.
suppressPackageStartupMessages({library(lme4); library(jsonlite)})

source("tests/reference/extra/dump_fit.R")

brief <- function(fit) {
  list(objective = deviance(fit), theta = unname(getME(fit, "theta")),
       messages = as.list(fit@optinfo$conv$lme4$messages))
}

reference <- function(id, formula, data, data_name) {
  quiet <- function(ctrl) suppressWarnings(suppressMessages(
    lmer(formula, data, REML = FALSE, control = ctrl)))
  best <- quiet(lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
  nm <- quiet(lmerControl(optimizer = "Nelder_Mead",
                          optCtrl = list(FtolAbs = 1e-14, FtolRel = 1e-15, XtolRel = 1e-12,
                                         maxfun = 1e5)))
  stopifnot(abs(deviance(nm) - deviance(best)) < 1e-8)
  dump_fit(id, best, deparse1(formula), data_name,
           list(optimizer = "bobyqa (minqa), rhoend = 1e-12",
                nloptwrap = brief(quiet(lmerControl())),
                nlminbwrap = brief(quiet(lmerControl(optimizer = "nlminbwrap")))))
}

orange <- data.frame(Tree = as.character(Orange$Tree), age = Orange$age,
                     circumference = Orange$circumference)
write.csv(orange, "tests/data/orange.csv", row.names = FALSE)
orange <- read.csv("tests/data/orange.csv", stringsAsFactors = TRUE)
reference("orange_slopes_ml", circumference ~ 1 + (age | Tree), orange, "orange")

co2 <- data.frame(Plant = as.character(CO2$Plant), Type = as.character(CO2$Type),
                  Treatment = as.character(CO2$Treatment), conc = CO2$conc, uptake = CO2$uptake)
write.csv(co2, "tests/data/co2.csv", row.names = FALSE)
co2 <- read.csv("tests/data/co2.csv", stringsAsFactors = TRUE)
reference("co2_slopes_ml", uptake ~ Type + conc + (conc | Plant), co2, "co2")
