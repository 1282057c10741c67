# Kenward-Roger (REML) of vanished_reference.csv's fit y ~ stratum + (1|subject), VarIdent(stratum), at the supremum
# where stratum A's residual variance is 0 (A nlme's reference when its rows come first), for
# tests/test_varident_tiny_kr.py. mmrm's formulas by the dense implementation of tests/reference/cov_kr/make_kr.R
# (kr_dense copied from it unchanged), with v_A = 0 exactly (held, as Satterthwaite's vanished_reference_sat.R):
# per subject V = tau^2 J + diag(0, sigma_B^2, sigma_C^2) over its (A, B, C) rows, tau = (log sigma_B, log tau,
# log delta_C) at vanished_reference_sat.json's REML estimates (the affine choice of log-sd parameters leaves
# Phi_A unchanged). Run from the repository root:
#   Rscript tests/reference/cov_varident_reference/vanished_reference_kr.R
suppressMessages({library(jsonlite); library(numDeriv)})
source("tests/reference/cov_kr/kr_dense.R")  # kr_dense (path from the repository root, where the script is run)
here <- "tests/reference/cov_varident_reference"
d <- read.csv(file.path(here, "vanished_reference.csv"), stringsAsFactors = FALSE)
d$stratum <- factor(d$stratum, levels = c("A", "B", "C"))
X <- model.matrix(~ stratum, d); sub <- split(seq_len(nrow(d)), d$subject)
ref <- fromJSON(file.path(here, "vanished_reference_sat.json"))$reml
tau <- c(log(ref$sigma_B), log(ref$tau), log(ref$delta_C))
S_of <- function(t) exp(2 * t[2]) + diag(c(0, exp(2 * t[1]), exp(2 * t[1] + 2 * t[3])))
res <- kr_dense(S_of, lapply(sub, function(i) as.integer(d$stratum[i])), tau,
                lapply(sub, function(i) X[i, , drop = FALSE]), lapply(sub, function(i) d$y[i]))
out <- list(terms = colnames(X), se = res$se, se_kr = res$se_kr, df = res$df, tau = tau)
cat("se", res$se, "se_kr", res$se_kr, "df", res$df, "\n")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, "vanished_reference_kr.json"))
