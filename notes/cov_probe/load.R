suppressMessages({library(nlme); library(jsonlite)})
sch <- fromJSON("/work/shared/data/cov/schema.json")
ld <- function(nm) {
  d <- read.csv(file.path("/work/shared/data/cov", sch[[nm]]$file), stringsAsFactors = FALSE)
  for (f in names(sch[[nm]]$factors)) d[[f]] <- factor(as.character(d[[f]]), levels = sch[[nm]]$factors[[f]])
  d
}
ref <- function(id) fromJSON(file.path("/work/shared/reference/cov", paste0(id, ".json")))
