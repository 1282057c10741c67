"""Where does stress_v5's RuntimeWarning come from? (a stack at the warning)"""
import sys, traceback, warnings
sys.path.insert(0, "/tmp/p18/rv28")
import scan28
def show(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, RuntimeWarning):
        print(f"{category.__name__}: {message} at {filename}:{lineno}")
        traceback.print_stack(limit=12, file=sys.stdout)
warnings.showwarning = show
warnings.simplefilter("always")
c = scan28.get_case(sys.argv[1])
fit = c["fit"](c["data"]())
print(fit.loglik)
