"""Instruction counts of a child process under valgrind's callgrind (shared by
``instructions.py`` and ``callpath_stages.py``).

The parent runs a script's ``--child`` mode under ``valgrind --tool=callgrind`` with
``PYTHONPATH=<tree>`` (one thread of BLAS, a fixed hash seed); the child zeroes callgrind's
counters before what it measures and dumps them after (:func:`control`, synchronous), printing a
line per dump. :func:`dumps` returns each printed line's fields with the instructions of its
dump.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def control(flag: str) -> None:
    """``callgrind_control <flag>`` on this process: ``-z`` zeroes the counters, ``-d`` dumps."""
    subprocess.run(["callgrind_control", flag, str(os.getpid())], check=True, capture_output=True)


def dumps(tree: Path, script: str, args: Sequence[str]) -> list[tuple[list[str], int]]:
    """Run ``python script *args`` under callgrind importing mixedfit from ``tree``; each line
    the child printed (split into fields) with the instructions of the dump it announced (the
    child prints one line after each :func:`control` ``-d``, in order)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                script,
                *args,
            ],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        )
        lines = [line.split() for line in run.stdout.splitlines() if line.strip()]
        result = []
        for i, fields in enumerate(lines, start=1):
            text = Path(f"{out}.{i}").read_text()
            summary = re.search(r"^summary:\s*(\d+)", text, re.M)
            assert summary is not None
            result.append((fields, int(summary.group(1))))
        return result
