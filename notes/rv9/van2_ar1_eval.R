suppressMessages(library(jsonlite))
src <- readLines("/tmp/p9/rv9/van2_ar1.R"); eval(parse(text=src[1:9]))
P <- fromJSON("/tmp/p9/rv9/van2_ar1_point.json"); r <- unlist(P$params)[c("A","B","C","D","E")]
cat("ours", sprintf("%.9f", P$loglik), " dense at our point", sprintf("%.9f", -ll(c(P$tau^2, P$params$Phi, (P$sigma*r)^2))), "\n")
