# Lane csridge (issue 12): CSH (CS & VarIdent over t) near CS's limit rho -> -1/3, the criterion of
# ../cov_cs_exact/cs_eig.R (`dense_gen`: rows divided by their sd ratio, CS's eigenbasis, the mean rows divided by
# sqrt(t); taken from that script unevaluated, with `dense` from cs_exact.R) optimized over (log t, log ratios 2..4)
# by BFGS then Nelder-Mead (parscale sqrt(t) on the ratios) from the plain CS optimum (ratios 1; a nested model: the CSH maximum is at least its
# loglik, also recorded). Data: ../cov_cs_exact/cs_near0_<b>.csv (between-subject sd b).
# Run (in this directory): Rscript cs_ridge.R
suppressMessages(library(jsonlite))
take <- function(file, name) {
  for (e in parse(file)) if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name(name)))
    eval(e, globalenv())
}
take("../cov_cs_exact/cs_exact.R", "dense")
take("../cov_cs_exact/cs_eig.R", "dense_gen")
fit <- function(f, start, scale) {  # cs_eig.R's fit, with parscale: the ratios matter on the scale sqrt(t)
  ctl <- list(parscale = scale, reltol = 1e-14, maxit = 5000)
  o <- optim(start, f, method = "BFGS", control = ctl)
  ctl$reltol <- 1e-15; ctl$maxit <- 20000
  optim(o$par, f, method = "Nelder-Mead", control = ctl)
}
out <- list()
for (b in c("1e-06", "1e-07", "5e-05")) {
  d <- read.csv(paste0("../cov_cs_exact/cs_near0_", b, ".csv")); d$g <- factor(d$g); d$grp <- "A"
  tl <- as.integer(factor(d$t))
  for (meth in c("REML", "ML")) {
    reml <- meth == "REML"
    cs <- optimize(function(u) dense(d, exp(u), reml), c(-60, 5), tol = 1e-12)
    f <- function(v) dense_gen(d, rep(exp(v[1]), 2), c(1, exp(v[2:4]))[tl], reml)
    o <- fit(f, c(cs$minimum, 0, 0, 0), c(1, rep(sqrt(exp(cs$minimum)), 3)))
    out[[paste0("csh_", b)]][[meth]] <- list(
      cs_t = exp(cs$minimum), cs_loglik = -cs$objective / 2,
      t = exp(o$par[1]), ratios = exp(o$par[2:4]), loglik = -o$value / 2, convergence = o$convergence)
    cat(b, meth, "CS", format(-cs$objective / 2, digits = 15), "CSH", format(-o$value / 2, digits = 15),
        "t", exp(o$par[1]), "ratios - 1", exp(o$par[2:4]) - 1, "\n")
  }
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "cs_ridge.json")
