"""Dump the machine code of the compiled kernel's evaluation (lane ortho, session 16).

Usage: ``NUMBA_CACHE_DIR=<new dir> python notes/ortho16/dumpcallee.py fresh`` (compiles), then
the same with ``cached`` (loads); then ``objdump -D -b binary -m i386:x86-64 callee_<state>.bin``
for both and compare with the absolute addresses (``0x7f...``) masked. Writes to the current
directory: run it from a scratch directory.
"""

import ctypes
import hashlib
import struct
import sys

import numpy as np

from mixedfit.engine import jit_kernel as K
fb = np.zeros(2000); ib = np.zeros(100, dtype=np.int64); out = np.empty(1)
try: K.evaluate_many(np.ones((1, 3)), fb, ib, out)
except Exception: pass
cres = list(K.evaluate_many.overloads.values())[0]
addr = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
raw = ctypes.string_at(addr, 4096)
# the first movabs followed by call *%rax: the callee
for j in range(len(raw) - 12):
    if raw[j] == 0x48 and raw[j+1] == 0xb8 and raw[j+10:j+12] == b"\xff\xd0":
        target = struct.unpack("<Q", raw[j+2:j+10])[0]; break
maps = [l.split() for l in open("/proc/self/maps")]
for m in maps:
    lo, hi = (int(x, 16) for x in m[0].split("-"))
    if lo <= target < hi: end = hi
code = ctypes.string_at(target, min(end - target, 40000))
open(f"callee_{sys.argv[1]}.bin", "wb").write(code)
print(sys.argv[1], hex(target), len(code), hashlib.md5(code[:20000]).hexdigest())
