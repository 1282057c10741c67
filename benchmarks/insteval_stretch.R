# InstEval stretch (issue 15): lme4's whole call, evaluation count and time per evaluation.
# Usage: Rscript benchmarks/insteval_stretch.R OUT_JSON   (prints sessionInfo's BLAS first)
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "insteval_lme4.json"
si <- sessionInfo()
cat("BLAS:", si$BLAS, "\nLAPACK:", si$LAPACK, "\n")
forms <- c(
  dept_service = "y ~ service + (1|s) + (1|d) + (1|dept:service)",
  dept = "y ~ 1 + service + (1|s) + (1|d) + (1|dept)"
)
rows <- character(0)
for (nm in names(forms)) {
  f <- as.formula(forms[[nm]])
  for (reml in c(TRUE, FALSE)) {
    invisible(lmer(f, InstEval, REML = reml))  # warm-up
    secs <- numeric(0)
    for (r in 1:2) {
      invisible(gc())
      t0 <- proc.time()[["elapsed"]]
      fit <- lmer(f, InstEval, REML = reml)
      secs <- c(secs, proc.time()[["elapsed"]] - t0)
    }
    dev <- lmer(f, InstEval, REML = reml, devFunOnly = TRUE)
    th <- getME(fit, "theta")
    invisible(dev(th))
    t0 <- proc.time()[["elapsed"]]
    for (i in 1:20) invisible(dev(th))
    per <- (proc.time()[["elapsed"]] - t0) / 20
    rows <- c(rows, sprintf(
      '{"model": "%s", "reml": %s, "seconds": [%s], "evals": %d, "per_eval": %.6f, "objective": %.10f, "theta": [%s]}',
      nm, tolower(reml), paste(sprintf("%.4f", secs), collapse = ", "), fit@optinfo$feval, per,
      -2 * as.numeric(logLik(fit)), paste(sprintf("%.10g", th), collapse = ", ")))
    cat(tail(rows, 1), "\n")
  }
}
writeLines(c(sprintf('{"blas": "%s", "rows": [', si$BLAS), paste(rows, collapse = ",\n"), "]}"), out)
