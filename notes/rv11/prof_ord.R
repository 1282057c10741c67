suppressMessages(library(lme4)); data(Orthodont, package="nlme"); Orthodont <- as.data.frame(Orthodont)
cases <- list(list(sleepstudy,"Reaction ~ Days + (Days|Subject)"),
 list(sleepstudy,"Reaction ~ Days + (1|Subject) + (0+Days|Subject)"),
 list(Penicillin,"diameter ~ 1 + (1|plate) + (1|sample)"),
 list(Orthodont,"distance ~ age + (age|Subject)"),
 list(Dyestuff2,"Yield ~ 1 + (1|Batch)"),list(Dyestuff,"Yield ~ 1 + (1|Batch)"),
 list(Pastes,"strength ~ 1 + (1|batch/cask)"))
options(digits=7, width=200)
for (cc in cases) for (reml in c(TRUE,FALSE)) {
  fit <- lmer(as.formula(cc[[2]]), cc[[1]], REML=reml)
  cat("==", cc[[2]], "REML=", reml, "\n")
  print(withCallingHandlers(confint(fit, method="profile", oldNames=FALSE), warning=function(w){cat("  RWARN", conditionMessage(w), "\n"); invokeRestart("muffleWarning")}))
}
