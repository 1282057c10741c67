"""Describe the machine a benchmark ran on: CPU, cores, memory, BLAS, threads and versions."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

__all__ = ["describe_machine"]

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)

_R_INFO = r"""
si <- sessionInfo()
cat("R:", R.version.string, "\n")
for (p in c("lme4", "Matrix", "nloptr")) {
  v <- tryCatch(packageDescription(p)$Version, error = function(e) "not installed")
  cat(p, ": ", v, "\n", sep = "")
}
cat("R BLAS:", if (is.null(si$BLAS)) "unknown" else si$BLAS, "\n")
cat("R LAPACK:", if (is.null(si$LAPACK)) "unknown" else si$LAPACK, "\n")
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _mixedfit_source() -> str:
    """Git commit of the mixedfit source tree (``-dirty`` if it has uncommitted changes)."""
    import mixedfit

    repo = Path(mixedfit.__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return out.stdout.strip()


def _numpy_blas() -> list[tuple[str, str]]:
    import numpy as np
    import scipy.linalg  # noqa: F401 - loads scipy's BLAS so that threadpoolctl lists it

    rows: list[tuple[str, str]] = []
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        rows.append(("numpy BLAS (build)", f"{blas.get('name')} {blas.get('version', '')}"))
    except Exception:  # older numpy: no dict mode
        rows.append(("numpy BLAS (build)", "unknown (see numpy.show_config())"))
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            text = (
                f"{pool.get('internal_api')} {pool.get('version')} "
                f"({pool.get('architecture')}), {pool.get('num_threads')} threads"
            )
            rows.append((f"threadpool {Path(str(pool.get('filepath'))).name}", text))
    except ImportError:
        rows.append(("threadpools", "threadpoolctl not installed"))
    return rows


def _r_info(rscript: str) -> list[tuple[str, str]]:
    try:
        out = subprocess.run(
            [rscript, "-e", _R_INFO], capture_output=True, text=True, timeout=120, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        return [("R", f"unavailable ({err.__class__.__name__})")]
    rows = []
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if value:
            rows.append((key.strip(), _annotate_blas(value.strip())))
    return rows


def _annotate_blas(path: str) -> str:
    """Name the BLAS behind a Debian library path (R reports only the path)."""
    if "/blas/libblas" in path or "/lapack/liblapack" in path:
        return f"{path} (netlib reference, single-threaded)"
    if "openblas" in path:
        return f"{path} (OpenBLAS)"
    return path


def describe_machine(rscript: str | None = "Rscript") -> list[tuple[str, str]]:
    """Key facts of this machine and software, as (name, value) rows.

    Parameters
    ----------
    rscript : str or None
        Rscript to ask for R's version and BLAS; None skips R.

    Returns
    -------
    list of (str, str)
    """
    import numpy as np
    import scipy

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [
        ("CPU", _cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {affinity} usable by this process"),
        ("memory", _memory()),
        ("OS", platform.platform()),
        ("load average at start (1, 5, 15 min)", load),
        ("Python", platform.python_version()),
        ("numpy", np.__version__),
        ("scipy", scipy.__version__),
        ("pandas", _version("pandas")),
        ("mixedfit", f"{_version('mixedfit')} (source {_mixedfit_source()})"),
        ("formulaic", _version("formulaic")),
        ("nlopt (Python)", _version("nlopt")),
        ("statsmodels", _version("statsmodels")),
    ]
    rows += _numpy_blas()
    rows += [(var, os.environ.get(var, "unset")) for var in THREAD_VARS]
    if rscript:
        rows += _r_info(rscript)
    return rows
