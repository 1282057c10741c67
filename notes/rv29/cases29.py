"""rv29's custom cases: rv28's (notes/rv28/cases28.py, imported) plus the additions below."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rv28"))
from cases28 import CUSTOM, R, family  # noqa: E402

__all__ = ["CUSTOM"]

# rv29 additions: h3 ML against R's held supremum (h3_by_ML.json is a local optimum, rv28 HIGH-1); h3r (h3w's rows, '0' first).
CUSTOM["by_h3_ML"] = lambda: {**family("cov_by_ar1", "h3", "h3_by_ML.json", 5, "ar1het", False, by=True),
                              "r": json.loads((R / "cov_by_ar1" / "h3_by_ML_hold_bm1_c1.json").read_text())["best"]}
CUSTOM["by_h3r"] = lambda: family("cov_by_ar1", "h3r", "h3w_by_REML.json", 5, "ar1het", True, by=True)

# rv28's stress_s0 entry had the wrong model (ar1hom, 6 occasions); s0 is ar1het over 5 (test_residual_multistart_stop.py).
CUSTOM["stress_s0"] = lambda: family("cov_rar1_stress", "s0", "s0_REML.json", 5, "ar1het", True)
