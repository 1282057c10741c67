# References for tests/test_tidy_structure.py: the residual structure's parameters of nlme fits
# (coef(..., unconstrained = FALSE)) next to broom.mixed's tidy() of the same fits, which puts
# varIdent's ratios under effect "var_model" and drops the correlation structure. mixedfit's
# tidy() gives them as ran_pars rows of group "Residual" (cor__ / varfun__, see report/tidy.py).
# Run from the repository root: Rscript tests/reference/tidy/structure_tidy.R
suppressPackageStartupMessages({library(nlme); library(broom.mixed); library(jsonlite)})
schema <- fromJSON("tests/data/cov/schema.json")
entry <- schema$orthodont
o <- read.csv(file.path("tests/data/cov", entry$file), colClasses = setNames(
  rep("character", length(entry$factors)), names(entry$factors)))
for (k in names(entry$factors)) o[[k]] <- factor(o[[k]], levels = entry$factors[[k]])
df_out <- function(d) { d <- as.data.frame(d); for (n in names(d)) if (is.factor(d[[n]])) d[[n]] <- as.character(d[[n]]); d }

f <- distance ~ Sex * age_c
ri_ar1_vi <- lme(f, o, random = ~ 1 | Subject, correlation = corAR1(form = ~ occ | Subject),
                 weights = varIdent(form = ~ 1 | Sex))
gls_cs_pow <- gls(f, o, correlation = corCompSymm(form = ~ 1 | Subject),
                  weights = varPower(form = ~ age))
ms <- ri_ar1_vi$modelStruct
out <- list(
  engine = paste("nlme", packageVersion("nlme"), "/ broom.mixed", packageVersion("broom.mixed")),
  ri_ar1_varident = list(
    call_py = paste('mf.lmer("distance ~ Sex * age_c + (1 | Subject)", o,',
                    'residual=mf.AR1("occ", "Subject") & mf.VarIdent("Sex"))'),
    sigma = ri_ar1_vi$sigma,
    Phi = unname(coef(ms$corStruct, unconstrained = FALSE)),
    varident = as.list(coef(ms$varStruct, unconstrained = FALSE, allCoef = TRUE)),
    broom = df_out(tidy(ri_ar1_vi))),
  gls_cs_power = list(
    call_py = paste('mf.gls("distance ~ Sex * age_c", o,',
                    'residual=mf.CompoundSymmetry("Subject") & mf.VarPower("age"))'),
    sigma = gls_cs_pow$sigma,
    Rho = unname(coef(gls_cs_pow$modelStruct$corStruct, unconstrained = FALSE)),
    power = unname(coef(gls_cs_pow$modelStruct$varStruct, unconstrained = FALSE)))
)
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "string"),
      "tests/reference/tidy/structure_tidy.json")
