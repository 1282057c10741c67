suppressMessages(library(lme4))
data(sleepstudy)
out <- list()
for (f in c("Reaction ~ Days + (Days|Subject)", "Reaction ~ Days + (1|Subject)")) {
  for (reml in c(TRUE, FALSE)) {
    base <- lmer(as.formula(f), sleepstudy, REML = reml)
    cat(f, reml, "base", sprintf("%.10f", deviance(base, REML=reml)), sprintf("%.10f", sigma(base)), getME(base, "theta"), "\n")
    for (cs in list(c("Reaction", 1e8), c("Reaction", 1e9), c("Reaction", 56e12), c("Days", 1e6), c("Days", 1e9), c("Days", 3e12))) {
      d <- sleepstudy; d[[cs[1]]] <- d[[cs[1]]] + as.numeric(cs[2])
      m <- tryCatch(suppressWarnings(lmer(as.formula(f), d, REML = reml)), error = function(e) NULL)
      if (is.null(m)) { cat(f, reml, cs, "ERROR\n"); next }
      cat(f, reml, cs, "dobj", deviance(m, REML=reml) - deviance(base, REML=reml), "dsig", sigma(m)/sigma(base)-1,
          "dtheta", max(abs(getME(m,"theta") - getME(base,"theta"))), "slopeVar", VarCorr(m)$Subject[nrow(VarCorr(m)$Subject), nrow(VarCorr(m)$Subject)], "\n")
    }
  }
}
