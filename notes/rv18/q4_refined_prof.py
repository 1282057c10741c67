"""Where RefinedGLS's time goes (12,000 rows, AR1 & VarIdent at 1e-9, ML)."""
import cProfile, pstats, sys, warnings
sys.path.insert(0, "/tmp/p13/rv18")
import mixedfit as mf
from q1_refined import data
d = data(1e-9, seed=3, miss=0.1, n=2000)
warnings.simplefilter("ignore")
cProfile.run('mf.gls("y ~ x", d, residual=mf.AR1("t", "g") & mf.VarIdent("s"), reml=False)', "/tmp/p13/rv18/q4_refined.prof")
pstats.Stats("/tmp/p13/rv18/q4_refined.prof").sort_stats("cumulative").print_stats(18)
