a0 <- commandArgs(TRUE)
src <- readLines("/tmp/p12/stress/dense_stress.R"); cut <- grep("^set.seed\\(11\\)", src)
commandArgs <- function(...) a0
eval(parse(text = src[1:(cut - 1)]))
q <- c(rep(0, nsd), rep(0.3, ncor), rep(0, vi), 0.3)
print(fint(q)); print(system.time(for (i in 1:200) fint(q)))
