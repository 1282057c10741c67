suppressMessages(library(nlme))
D='/work/wt-rv27/tests/data/cov/'
orth=read.csv(paste0(D,'orthodont.csv')); fev=read.csv(paste0(D,'fev.csv')); fev=fev[!is.na(fev$FEV1),]
m=gls(distance~age+Sex,orth,correlation=corCompSymm(form=~1|Subject),method='ML'); cat('orth CS ML', format(logLik(m),digits=15),'\n')
m=gls(FEV1~RACE+SEX+ARMCD*AVISIT,fev,correlation=corCompSymm(form=~1|USUBJID),method='ML'); cat('fev CS ML', format(logLik(m),digits=15),'\n')
m=gls(FEV1~RACE+SEX+ARMCD*AVISIT,fev,correlation=corCompSymm(form=~1|USUBJID),weights=varIdent(form=~1|AVISIT),method='ML'); cat('fev CSH ML', format(logLik(m),digits=15),'\n')
for (k in c(1,2,3,5)) {
 d=read.csv(sprintf('orth_unb_k%d.csv',k))
 m=gls(distance~age+Sex,d,correlation=corCompSymm(form=~1|Subject),method='ML')
 M=max(table(d$Subject)); lim=-1/(M-1)+4*.Machine$double.eps*(1/(M-1))
 fx=tryCatch(format(logLik(gls(distance~age+Sex,d,correlation=corCompSymm(lim,form=~1|Subject,fixed=TRUE),method='ML')),digits=12),error=function(e) conditionMessage(e))
 fx2=tryCatch(format(logLik(gls(distance~age+Sex,d,correlation=corCompSymm(-1/(M-1)+1e-9,form=~1|Subject,fixed=TRUE),method='ML')),digits=12),error=function(e) conditionMessage(e))
 cat('K',k,'gls ML',format(logLik(m),digits=15),'limit',fx,'1e-9:',fx2,'\n')
}
