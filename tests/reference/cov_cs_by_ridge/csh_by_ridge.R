# Lane csby (issue 12): heterogeneous CS(by = h) (a variance per (group, time) cell; glmmTMB's cs(0 + t:grp | g)
# pattern) near CS's limit, data and groups as cs_by_ridge.R. Parameters: log t_A, log t_B, group B's level log r_B,
# A's time ratios a_1..a_3 (a_0 = 0) and B's b_1..b_3 (b_0 = 0): row sd multipliers exp(a_t) in A, r_B exp(b_t) in B
# (mixedfit's 7 cell ratios, reparametrized). Criterion: ../cov_cs_exact/cs_eig.R's `dense_gen`, taken unevaluated;
# optimized by BFGS then Nelder-Mead (parscale sqrt(min t) on the time ratios) and by nlminb from cs_by_ridge.json's
# CS(by = h) & VarIdent(t) optimum (a = b = its ratios; a nested model), and from it with the time ratios moved by
# +-sqrt(t) and set to 0. Results (loglik; every run within 1e-8): see csh_by_ridge.json.
# Run (in this directory, after cs_by_ridge.R): Rscript csh_by_ridge.R
suppressMessages(library(jsonlite))
take <- function(file, name) {
  for (e in parse(file)) if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name(name)))
    eval(e, globalenv())
}
take("../cov_cs_exact/cs_eig.R", "dense_gen")
take("cs_by_ridge.R", "optim2")
R <- fromJSON("cs_by_ridge.json")
out <- list()
for (b in c("1e-07", "1e-06")) {
  d <- read.csv(paste0("../cov_cs_exact/cs_near0_", b, ".csv")); d$g <- factor(d$g)
  d$grp <- ifelse(as.integer(sub("s", "", as.character(d$g))) %% 2 == 0, "A", "B")
  tl <- as.integer(factor(d$t)); B <- d$grp == "B"
  for (meth in c("REML", "ML")) {
    reml <- meth == "REML"
    f <- function(v) {
      a <- c(0, v[4:6]); bb <- c(0, v[7:9])
      dense_gen(d, exp(v[1:2]), ifelse(B, exp(v[3] + bb[tl]), exp(a[tl])), reml)
    }
    r <- R[[paste0("by_", b)]][[meth]]
    lr <- log(r$ratios); st <- sqrt(min(r$t)); scale <- c(1, 1, 1, rep(st, 6))
    s0 <- c(log(r$t), log(r$ratio_B), lr, lr)
    runs <- list()
    for (s in list(s0, c(s0[1:3], lr + st, lr - st), c(s0[1:3], rep(0, 6)))) {
      runs[[length(runs) + 1]] <- optim2(f, s, scale)
      n <- nlminb(s, f, scale = 1 / scale, control = list(eval.max = 5000, iter.max = 3000, rel.tol = 1e-15))
      runs[[length(runs) + 1]] <- optim2(f, n$par, scale)
    }
    values <- sapply(runs, `[[`, "value"); best <- runs[[which.min(values)]]$par
    cells <- c(exp(c(0, best[4:6])), exp(best[3] + c(0, best[7:9])))  # A:0..3, B:0..3 (A:0 the reference)
    out[[paste0("csh_by_", b)]][[meth]] <- list(t = exp(best[1:2]), cell_ratios = cells, loglik = -min(values) / 2,
                                                nested_loglik = r$loglik, deviance_spread = max(values) - min(values))
    cat(b, meth, "CSH(by)", format(-min(values) / 2, digits = 15), "CS(by)&VI", r$loglik, "spread",
        max(values) - min(values), "\n")
  }
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "csh_by_ridge.json")
