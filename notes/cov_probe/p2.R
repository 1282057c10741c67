library(nlme)
for (fn in c("coef.corAR1","coef.corCAR1","coef.corARMA","coef.corCompSymm","coef.corNatural","coef.corSymm","coef.varIdent","coef.varPower","coef.varExp", "coef.corExp","coef.corSpatial")) { cat("=====", fn, "\n"); print(getAnywhere(fn)$objs[[1]]) }
