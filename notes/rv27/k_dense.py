"""Exact REML for CS(by=h) (common sigma^2, rho per group) via CS eigenstructure; numpy/scipy only."""
import numpy as np, pandas as pd
from scipy.optimize import minimize
for b in ['1e-07','1e-06']:
    d=pd.read_csv(f'/work/main/tests/reference/cov_cs_exact/cs_near0_{b}.csv')
    d['h']=np.where(d.g.str[1:].astype(int)%2==0,'A','B')
    X=np.column_stack([np.ones(len(d)), d.x.values]); y=d.y.values; n,p=X.shape
    subs=[np.flatnonzero(d.g.values==s) for s in pd.unique(d.g)]
    grp=[d.h.values[i[0]] for i in subs]
    def crit(lc):  # lc: log c for A,B; c = 1+(m-1)rho
        XtVX=np.zeros((p,p)); XtVy=np.zeros(p); ld=0.0; parts=[]
        for i,gname in zip(subs,grp):
            m=len(i); c=np.exp(lc[0] if gname=='A' else lc[1]); a=(m-c)/(m-1)
            if a<=0: return np.inf
            Xi,yi=X[i],y[i]
            mx, my = Xi.mean(0), yi.mean()
            Xc, yc = Xi-mx, yi-my
            # V^-1 = (1/a)(I-J/m) + (1/c) J/m
            XtVX += Xc.T@Xc/a + m*np.outer(mx,mx)/c
            XtVy += Xc.T@yc/a + m*mx*my/c
            ld += (m-1)*np.log(a)+np.log(c)
            parts.append((Xi,yi,a,c,m))
        beta=np.linalg.solve(XtVX,XtVy)
        q=0.0
        for Xi,yi,a,c,m in parts:
            r=yi-Xi@beta; rm=r.mean(); q+=((r-rm)**2).sum()/a + m*rm*rm/c
        s2=q/(n-p)
        return (n-p)*(1+np.log(2*np.pi*s2)) + ld + np.linalg.slogdet(XtVX)[1] + 0*0  # |X'V^-1X| with sigma^2
    # note: REML -2l = (n-p)log(2 pi s2) + log|V0| + log|X'V0^-1 X| + (n-p)  (s2 profiled, V=s2 V0) with log|X'V^-1X| = log|X'V0^-1X| - p log s2
    def crit2(lc):
        v=crit(lc); 
        return v
    best=None
    for s in [(-30,-30),(-25,-25),(-32,-28),(-28,-32),(-20,-30),(-30,-20),(0,0),(-10,-10)]:
        r=minimize(crit2,np.array(s,float),method='Nelder-Mead',options=dict(xatol=1e-10,fatol=1e-12,maxiter=3000))
        if best is None or r.fun<best.fun: best=r
    print(b,'dense CS(by) REML -2l', best.fun, 'l', -best.fun/2, 'log c', best.x)
