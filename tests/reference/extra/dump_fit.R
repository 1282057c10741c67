# The JSON reference of one lme4 fit (sourced by make_extra.R and make_restart.R).
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
