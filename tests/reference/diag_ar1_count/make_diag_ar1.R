# A heterogeneous diag term over complete visits beside an AR(1) (review stress LOW;
# tests/test_diag_count_rule.py): 40 subjects x 6 visits, y = 1 + 0.5 x + N(0, sd_visit^2) +
# AR(1) (phi 0.6, variance 1). lme4 refuses the count (240 random effects for 240 rows); glmmTMB
# fits diag(0 + occf | Subject) + ar1(0 + occf | Subject) with dispformula = ~0 (the model
# mixedfit would write diag(0 + occf | Subject) with residual = mf.AR1("occ", "Subject")), ML.
# Run in this directory: Rscript make_diag_ar1.R (writes diag_ar1.csv too)
suppressPackageStartupMessages({library(glmmTMB); library(lme4); library(jsonlite)})
set.seed(5)
ns <- 40; K <- 6
d <- expand.grid(occ = 1:K, Subject = factor(1:ns))
d$occf <- factor(d$occ)
sds <- c(0.5, 0.8, 1.0, 1.2, 0.7, 0.9)
e <- unlist(lapply(1:ns, function(i) {
  S <- 1.0 * 0.6^abs(outer(1:K, 1:K, "-")); drop(t(chol(S)) %*% rnorm(K))
}))
d$x <- rnorm(nrow(d))
d$y <- 1 + 0.5 * d$x + rnorm(nrow(d)) * sds[d$occ] + e
write.csv(d, "diag_ar1.csv", row.names = FALSE)
r <- try(lmer(y ~ x + (0 + occf | Subject), d, REML = FALSE), silent = TRUE)
g <- glmmTMB(y ~ x + diag(0 + occf | Subject) + ar1(0 + occf | Subject), d,
             dispformula = ~ 0, REML = FALSE)
out <- list(lme4_error = if (inherits(r, "try-error")) conditionMessage(attr(r, "condition")) else NULL,
            glmmTMB_loglik = as.numeric(logLik(g)), glmmTMB_pdHess = g$sdr$pdHess,
            R = R.version.string, glmmTMB = as.character(packageVersion("glmmTMB")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "diag_ar1.json")
