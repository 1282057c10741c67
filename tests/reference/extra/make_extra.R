# Extra lme4 references for behaviour the shared cases do not cover (weights, offsets, missing
# values, rank deficiency, three-level nesting, crossed correlated slopes, transforms).
# Run from the project root: Rscript tests/reference/extra/make_extra.R  (lme4 1.1-31)
suppressPackageStartupMessages({library(lme4); library(jsonlite)})

source("tests/reference/extra/dump_fit.R")

ss <- read.csv("mixedfit/io/datasets/data/sleepstudy.csv")
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
