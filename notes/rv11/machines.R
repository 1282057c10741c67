suppressMessages(library(lme4)); data(Machines, package="nlme"); Machines <- as.data.frame(Machines); fit <- lmer(score ~ Machine + (Machine|Worker), Machines)
options(width=200); print(suppressWarnings(confint(fit, method="profile", oldNames=FALSE)))
