import json, sys
R=[json.loads(l) for l in open(sys.argv[2])]; M=[json.loads(l) for l in open(sys.argv[1])]
for m in M:
    r=[x for x in R if x['file'].split('/')[-1]==m['file'].split('/')[-1] and x['reml']==(m['method']=='REML') and x['kind']==m['kind']]
    r=r[0] if r else None
    best = max(r['interior_loglik'], r['edge_p1'], r['edge_m1'], r['limit_approx']) if r else None
    flag = '' if not r else ('  <-- SHORT %.4f' % (best - m['loglik']) if best - m['loglik'] > 1e-4 else '')
    print(m['file'][-7:], m['kind'], m['method'], m['variant'], 'mf %.6f phi %.3f rho %s'%(m['loglik'],m['phi'],m['rho'] and round(m['rho'],3)),
          'R %.6f phi %.3f rho %.3f e+ %.3f e- %.3f lim %.3f'%(r['interior_loglik'],r['phi'],r['rho'],r['edge_p1'],r['edge_m1'],r['limit_approx']) if r else '', [w[:60] for w in m['warn']], m['evals'], flag)
