source_lines <- readLines("/tmp/p9/rv9/prof_dense.R"); eval(parse(text=source_lines[1:10]))
l0 <- -55.95160421; s <- 0.446182
fn <- function(p) -reml(exp(p[1]), s, tanh(p[2]))
best <- Inf; bp <- NULL
for (lt in log(c(0.5, 0.8, 1, 1.1, 1.2, 1.4))) for (ar in atanh(c(0.7, 0.8, 0.85, 0.9, 0.95))) { o <- nlminb(c(lt, ar), fn); if (o$objective < best) { best <- o$objective; bp <- o$par } }
cat("s=0.446182: 2dl =", 2*(l0 + best), " tau =", exp(bp[1]), " rho =", tanh(bp[2]), "\n")
