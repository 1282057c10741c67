# performance::icc / r2_nakagawa (performance 0.10, insight 0.19) when random-slope variables are
# not fixed effects, as with the structured terms ar1(0 + Daysf | Subject), cs(0 + Daysf |
# Subject) (glmmTMB) or (Days | Subject) without Days in the fixed part (lme4): the columns are
# left out of the random variance (ICC 0 for the structured terms) and insight warns
# "Random slopes not present as fixed effects". The reference of tests/test_r2_structured.py.
# Run from the repository root: Rscript tests/reference/r2_structured/r2_structured.R
suppressPackageStartupMessages({
  library(lme4); library(glmmTMB); library(performance); library(jsonlite)
})
data(Machines, package = "nlme")
Machines <- as.data.frame(Machines)
ss <- sleepstudy
ss$Daysf <- factor(ss$Days)

run <- function(m, call_py) {
  warned <- character(0)
  catch <- function(expr) withCallingHandlers(expr, warning = function(w) {
    warned <<- c(warned, conditionMessage(w)); invokeRestart("muffleWarning")})
  i <- catch(icc(m))
  r <- catch(r2_nakagawa(m))
  list(call_py = call_py,
       icc_adjusted = unname(i$ICC_adjusted), icc_conditional = unname(i$ICC_conditional),
       r2_marginal = unname(r$R2_marginal), r2_conditional = unname(r$R2_conditional),
       slopes_warning = any(grepl("Random slopes not present as fixed effects", warned)))
}
tmb <- function(f) suppressWarnings(glmmTMB(f, ss, REML = TRUE))
out <- list(engine = paste("performance", packageVersion("performance"), "/ insight",
                           packageVersion("insight"), "/ glmmTMB", packageVersion("glmmTMB"),
                           "/ lme4", packageVersion("lme4")))
out$tmb_ar1 <- run(tmb(Reaction ~ Days + ar1(0 + Daysf | Subject)),
                   "Reaction ~ Days + ar1(0 + Daysf | Subject)")
out$tmb_cs <- run(tmb(Reaction ~ Days + cs(0 + Daysf | Subject)),
                  "Reaction ~ Days + cs(0 + Daysf | Subject)")
out$tmb_diag <- run(tmb(Reaction ~ Days + diag(Days | Subject)),
                    "Reaction ~ Days + diag(Days | Subject)")
out$lme4_slope_not_fixed <- run(lmer(Reaction ~ 1 + (Days | Subject), ss),
                                "Reaction ~ 1 + (Days | Subject)")
out$lme4_slopes <- run(lmer(Reaction ~ Days + (Days | Subject), ss),
                       "Reaction ~ Days + (Days | Subject)")
out$lme4_machines <- run(lmer(score ~ Machine + (0 + Machine | Worker), Machines),
                         "score ~ Machine + (0 + Machine | Worker)")
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
      "tests/reference/r2_structured/r2_structured.json")
