import pickle, io, numpy as np, mixedfit as mf, warnings
from mixedfit.engine.jit import CompiledCriterion, EvaluationKernel
warnings.simplefilter('ignore')
found=[]
class P(pickle.Pickler):
    def persistent_id(self, o):
        if isinstance(o,(CompiledCriterion,EvaluationKernel)) or type(o).__name__=='NativeBobyqa': found.append(type(o).__name__); return None
        return None
def scan(name,obj):
    found.clear()
    try: P(io.BytesIO()).dump(obj); print(name, 'pickles; compiled objects inside:', sorted(set(found)))
    except Exception as e: print(name,'pickle fails', type(e).__name__, str(e)[:120])
df=mf.load_dataset('sleepstudy')
fit=mf.lmer('Reaction ~ Days + (Days|Subject)', df)
scan('fit', fit)
fit.confint(method='profile'); scan('after profile', fit)
try: fit.bootstrap(nsim=20, seed=1)
except Exception as e: print('bootstrap', e)
scan('after bootstrap', fit)
try: r=fit.refit(df['Reaction']+1); scan('refit', r); scan('fit after refit', fit)
except Exception as e: print('refit', type(e).__name__, e)
try: s=fit.simulate(2, seed=1); scan('fit after simulate', fit)
except Exception as e: print('simulate', type(e).__name__, e)
orth=mf.load_dataset('Orthodont')
g=mf.lmer('distance ~ age + (1|Subject)', orth, residual=mf.AR1('age','Subject') if False else None) if False else None
