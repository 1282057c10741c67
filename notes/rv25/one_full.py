import sys; sys.argv=['x','one_full_ml']
exec(open('/tmp/p16/rv25/csrho_scan.py').read().split('only =')[0])
d = pd.concat([base(K=20, m=3, seed=3), base(K=1, m=4, seed=4).assign(g="z")])
d.to_csv('/tmp/p16/rv25/one_full.csv', index=False)
# independent dense numpy profile ML over (beta, sigma2) at rho -> -1/3
X = np.column_stack([np.ones(len(d)), d.x.values]); y = d.y.values; n=len(y)
for t in [1e-1,1e-2,1e-4,1e-6,1e-8]:
    rho = (t-1)/3  # 1+3rho = t
    V = np.zeros((n,n)); idx = d.g.values
    for gname in np.unique(idx):
        ii = np.flatnonzero(idx==gname); m=len(ii)
        V[np.ix_(ii,ii)] = rho; V[ii,ii] = 1.0
    L = np.linalg.cholesky(V); Xw = np.linalg.solve(L,X); yw=np.linalg.solve(L,y)
    b = np.linalg.lstsq(Xw,yw,rcond=None)[0]; r = yw-Xw@b; s2 = r@r/n
    m2ll = n*np.log(2*np.pi*s2)+n + 2*np.log(np.diag(L)).sum()
    print("t=%g  -2ll_ML=%.6f"%(t,m2ll))
