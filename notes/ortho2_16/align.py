"""Lane ortho2: run a script with LLVM's -align-all-functions=6 (64-byte functions) set first."""
import runpy, sys
import llvmlite.binding as ll
ll.set_option("", "-align-all-functions=6")
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
