source_lines <- readLines("/tmp/p9/rv9/prof_dense.R"); eval(parse(text=source_lines[1:17]))
l0 <- -55.95160421
g <- function(s) 2*(l0-prof(s, FALSE)) - qchisq(0.95,1)
lo <- uniroot(g, c(0.446182, 0.8), tol=1e-3); cat("lo", lo$root, "\n")
hi <- uniroot(g, c(1.575006, 2.2), tol=1e-3); cat("hi", hi$root, "\n")
