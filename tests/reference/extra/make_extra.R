# Extra lme4 references for behaviour the shared cases do not cover (weights, offsets, missing
# values, rank deficiency, three-level nesting, crossed correlated slopes, transforms).
# Run from the project root: Rscript tests/reference/extra/make_extra.R  (lme4 1.1-31)
suppressPackageStartupMessages({library(lme4); library(jsonlite)})

dump_fit <- function(id, fit, formula_py, data_name, extra = list()) {
  vc <- as.data.frame(VarCorr(fit))
  vc$var1[is.na(vc$var1)] <- ""; vc$var2[is.na(vc$var2)] <- ""
  re <- ranef(fit, condVar = TRUE)
  long <- as.data.frame(re)  # condsd from lme4's own long format (handles repeated factors)
  ranef_out <- lapply(names(re), function(g) {
    m <- as.matrix(re[[g]])
    sds <- sapply(colnames(m), function(term) {
      rows <- long[long$grpvar == g & long$term == term, ]
      rows$condsd[match(rownames(m), rows$grp)]
    })
    list(levels = rownames(m), columns = colnames(m), values = unname(m),
         condsd = unname(matrix(sds, nrow = nrow(m))))
  })
  names(ranef_out) <- names(re)
  out <- c(list(id = id, data = data_name, formula = deparse1(formula(fit)), formula_py = formula_py,
    REML = isREML(fit), nobs = nobs(fit), ngroups = as.list(ngrps(fit)),
    objective = as.numeric(-2 * logLik(fit)), loglik = as.numeric(logLik(fit)),
    aic = AIC(fit), bic = BIC(fit), vcov = unname(as.matrix(vcov(fit))),
    scaled_residual_quantiles = unname(quantile(residuals(fit, type = "pearson", scaled = TRUE))),
    dof = attr(logLik(fit), "df"), theta = as.list(getME(fit, "theta")), sigma = sigma(fit),
    beta = as.list(fixef(fit)), se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
    varcorr = vc, ranef = ranef_out, singular = isSingular(fit),
    fitted_head = unname(head(fitted(fit), 20)), residuals_head = unname(head(residuals(fit), 20))),
    extra)
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
        file.path("tests/reference/extra", paste0(id, ".json")))
}

ss <- read.csv("mixedfit/datasets/data/sleepstudy.csv")
ss$Subject <- factor(ss$Subject)
ss$w <- 1 + (ss$Days %% 3)
f <- lmer(Reaction ~ Days + (Days | Subject), ss, weights = w)
dump_fit("sleepstudy_weights_reml", f, "Reaction ~ Days + (Days | Subject)", "sleepstudy",
         list(weights = "w"))

f <- lmer(Reaction ~ Days + offset(0.5 * Days) + (1 | Subject), ss, REML = FALSE)
nd <- data.frame(Days = c(0, 5, 12), Subject = factor(c("308", "335", "999")))
dump_fit("sleepstudy_offset_ml", f, "Reaction ~ Days + offset(0.5 * Days) + (1 | Subject)",
         "sleepstudy", list(newdata = nd,
         predict_new = unname(predict(f, nd, allow.new.levels = TRUE)),
         predict_new_fixed = unname(predict(f, nd, re.form = NA))))

na <- ss; na$Reaction[c(5, 17)] <- NA; na$Days[40] <- NA
f <- lmer(Reaction ~ Days + (Days | Subject), na)
dump_fit("sleepstudy_missing_reml", f, "Reaction ~ Days + (Days | Subject)", "sleepstudy",
         list(missing = list(Reaction = c(4, 16), Days = c(39))))

rd <- ss; rd$Days2 <- 2 * rd$Days
f <- lmer(Reaction ~ Days + Days2 + (1 | Subject), rd)
dump_fit("sleepstudy_rankdef_reml", f, "Reaction ~ Days + Days2 + (1 | Subject)", "sleepstudy",
         list(dropped = "Days2"))

n3 <- read.csv("tests/data/nested3.csv", stringsAsFactors = TRUE)
f <- lmer(y ~ x + (1 | a/b/c), n3)
dump_fit("nested3_reml", f, "y ~ x + (1 | a/b/c)", "nested3")

cs <- read.csv("tests/data/crossed_slopes.csv", stringsAsFactors = TRUE)
f <- lmer(y ~ x + z + (1 + x | subj) + (1 + x | item), cs)
dump_fit("crossed_slopes_reml", f, "y ~ x + z + (1 + x | subj) + (1 + x | item)", "crossed_slopes")

f <- lmer(y ~ x + (1 + x + z | subj) + (1 | item), cs, REML = FALSE)
dump_fit("crossed_k3_ml", f, "y ~ x + (1 + x + z | subj) + (1 | item)", "crossed_slopes")

f <- lmer(log(y + 10) ~ I(z^2) + x + (1 | subj) + (1 | item), cs)
dump_fit("crossed_transform_reml", f, "np.log(y + 10) ~ I(z**2) + x + (1 | subj) + (1 | item)",
         "crossed_slopes")

f <- lmer(Reaction ~ 1 + Days + (1 + Days || Subject), ss)
dump_fit("sleepstudy_zerocorr_reml", f, "Reaction ~ 1 + Days + (1 + Days || Subject)", "sleepstudy")

ns <- read.csv("tests/data/near_singular.csv", stringsAsFactors = TRUE)
f <- lmer(y ~ 1 + (1 | g), ns)
dump_fit("near_singular_reml", f, "y ~ 1 + (1 | g)", "near_singular")
