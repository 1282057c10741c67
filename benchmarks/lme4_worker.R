# Time lme4::lmer on one model, in a process of its own (started by benchmarks/run.py).
#
# Usage: Rscript lme4_worker.R DATA_CSV LEVELS_CSV FORMULA REML REPEAT WARMUP OUT_JSON
#
# The data are read before anything is timed; factor columns get the level order of
# LEVELS_CSV (the pandas Categorical categories). Then:
#   * whole call: WARMUP discarded + REPEAT timed runs of lmer(formula, data, REML = REML),
#     lme4's defaults (nloptwrap BOBYQA, derivative-based convergence checks included);
#   * optimization alone: REPEAT runs of the optimizeLmer() call that lmer itself makes, on a
#     devfun built (untimed) by lmer(..., devFunOnly = TRUE), with lmerControl() defaults but
#     calc.derivs = FALSE (the finite-difference gradient/Hessian of the convergence check is
#     not part of the optimization; it is part of the whole call).
# The orchestrator kills this worker if its first fit takes longer than --skip-lme4-above
# (see set_phase). Only base R and lme4 are used; the JSON is written by hand.

suppressPackageStartupMessages(library(lme4))

now <- function() as.numeric(Sys.time())

read_data <- function(data_csv, levels_csv) {
  lv <- read.csv(levels_csv, colClasses = "character", na.strings = character(0))
  cls <- setNames(rep("character", length(unique(lv$column))), unique(lv$column))
  d <- read.csv(data_csv, colClasses = cls, na.strings = "", check.names = FALSE)
  for (col in names(cls)) {
    d[[col]] <- factor(d[[col]], levels = lv$level[lv$column == col])
  }
  d
}

# Run expr, muffling (and recording) warnings and messages such as "boundary (singular) fit".
notes <- character(0)
quietly <- function(expr) {
  withCallingHandlers(expr,
    warning = function(w) {
      notes <<- union(notes, paste("warning:", conditionMessage(w)))
      invokeRestart("muffleWarning")
    },
    message = function(m) {
      notes <<- union(notes, paste("message:", trimws(conditionMessage(m))))
      invokeRestart("muffleMessage")
    }
  )
}

fit_whole <- function(form, d, reml) {
  invisible(gc())
  cpu0 <- sum(proc.time()[c("user.self", "sys.self")])
  t0 <- now()
  fit <- quietly(lmer(form, data = d, REML = reml))
  secs <- now() - t0
  list(
    seconds = secs, cpu = sum(proc.time()[c("user.self", "sys.self")]) - cpu0,
    objective = -2 * as.numeric(logLik(fit)),
    evals = fit@optinfo$feval,
    converged = fit@optinfo$conv$opt == 0 &&
      !any(grepl("converge", fit@optinfo$conv$lme4$messages)) # not "boundary (singular) fit"
  )
}

fit_opt <- function(form, d, reml) {
  devfun <- quietly(lmer(form, data = d, REML = reml, devFunOnly = TRUE))
  ctrl <- lmerControl()
  invisible(gc())
  t0 <- now()
  opt <- quietly(optimizeLmer(devfun,
    optimizer = ctrl$optimizer, restart_edge = ctrl$restart_edge,
    boundary.tol = ctrl$boundary.tol, control = ctrl$optCtrl, calc.derivs = FALSE
  ))
  list(seconds = now() - t0, objective = opt$fval, evals = opt$feval)
}

# Minimal JSON writer for flat lists of numbers, logicals and strings; I(x) is always an array.
json_value <- function(x) {
  if (is.null(x) || length(x) == 0) return("[]")
  array <- inherits(x, "AsIs") || length(x) > 1
  if (is.character(x)) {
    x <- gsub("\\\\", "\\\\\\\\", x)
    x <- gsub("\"", "\\\\\"", x)
    x <- gsub("[\r\n\t]", " ", x)
    x <- paste0("\"", x, "\"")
  } else if (is.logical(x)) {
    x <- ifelse(x, "true", "false")
  } else {
    x <- ifelse(is.finite(x), formatC(x, digits = 17, format = "g"), "null")
  }
  if (array) paste0("[", paste(x, collapse = ", "), "]") else x
}

write_json <- function(fields, path) {
  body <- paste0("  \"", names(fields), "\": ", vapply(fields, json_value, ""), collapse = ",\n")
  writeLines(c("{", body, "}"), path)
}

vm_hwm_kb <- function() {
  status <- readLines("/proc/self/status")
  as.numeric(gsub("[^0-9]", "", status[grepl("^VmHWM", status)]))
}

base_fields <- function(d) {
  list(
    engine = "lme4", version = packageDescription("lme4")$Version,
    nobs = nrow(d), rss_loaded_kb = vm_hwm_kb()
  )
}

# Tell the orchestrator what the worker is doing: it kills the worker (lme4 "skipped") if the
# phase stays "first" longer than its limit. R's setTimeLimit() cannot do this: it is not checked
# inside a long CHOLMOD factorization.
set_phase <- function(out, phase) writeLines(phase, paste0(out, ".phase"))

main <- function(args) {
  d <- read_data(args[1], args[2])
  form <- as.formula(args[3])
  reml <- as.logical(args[4])
  n_rep <- max(as.integer(args[5]), 1L)
  n_warm <- max(as.integer(args[6]), 0L)
  out <- args[7]
  fields <- base_fields(d)
  set_phase(out, "first")
  first <- fit_whole(form, d, reml)
  set_phase(out, "timed")
  for (i in seq_len(max(n_warm - 1L, 0L))) fit_whole(form, d, reml)
  runs <- if (n_warm == 0L) list(first) else list()
  while (length(runs) < n_rep) runs[[length(runs) + 1L]] <- fit_whole(form, d, reml)
  opts <- lapply(seq_len(n_rep), function(i) fit_opt(form, d, reml))
  last <- runs[[length(runs)]]
  write_json(c(list(
    status = "ok",
    whole = I(vapply(runs, `[[`, 0, "seconds")),
    cpu = I(vapply(runs, `[[`, 0, "cpu")),
    opt = I(vapply(opts, `[[`, 0, "seconds")),
    objective = last$objective, evals = last$evals,
    opt_objective = opts[[1]]$objective, opt_evals = opts[[1]]$evals,
    converged = all(vapply(runs, `[[`, TRUE, "converged")),
    notes = I(head(notes, 5))
  ), fields), out)
}

main(commandArgs(trailingOnly = TRUE))
