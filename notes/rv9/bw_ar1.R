suppressMessages({library(nlme); library(glmmTMB)}); bw <- read.csv("/tmp/p9/rv9/data/bw.csv", stringsAsFactors=FALSE); bw$Timef <- factor(bw$Time); bw$ti <- as.integer(bw$Timef)
g <- gls(weight ~ Time*Diet, bw, correlation=corAR1(form=~ti|Rat)); cat("gls corAR1 (σ→0 limit):", sprintf("%.9f", logLik(g)), "\n")
l <- lme(weight ~ Time*Diet, random=~1|Rat, bw, correlation=corAR1(form=~ti|Rat)); cat("lme RI+AR1:", sprintf("%.9f", logLik(l)), "\n")
m <- glmmTMB(weight ~ Time*Diet + ar1(0 + Timef|Rat), data=bw, REML=TRUE); cat("glmmTMB:", sprintf("%.9f", logLik(m)), sigma(m), "\n")
