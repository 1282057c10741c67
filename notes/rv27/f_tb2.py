import warnings, traceback, mixedfit as mf
from mixedfit.io import persist, fitload
from mixedfit.io.residual_file import restore_residual
from pathlib import Path
warnings.simplefilter('ignore')
doc=fitload.read(Path('/tmp/p17/rv27/f.json'), persist.FORMAT, persist.FORMAT_VERSION, persist.MAX_FILE_BYTES, False)
try: restore_residual(doc, None, False, 'x')
except Exception: traceback.print_exc()
