"""Write m10_edge_start.json: the state main handed to the re-referenced edge φ = +1
(``engine/residual/edge_swap.py``, :func:`swapped_edge`) on m10 with y + 1e3 ("add") and y × 1e-3
("div"), ML (rv28 HIGH 00:06; lane m10s). Run from the repository root on main 139412f:
``PYTHONPATH=. python tests/reference/cov_rar1_swapref/make_m10_edge_start.py``. Each entry: the
start's θ and φ (unconstrained), its criterion, the edge's record after ``reach`` (x = (θ, φ₂),
criterion, evaluations, converged), the budgets and the fit's criterion the call was given, and what
the call returned on that main (``result``: the edge's −2ℓ)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

import mixedfit as mf
import mixedfit.engine.residual.edge as edge

HERE = Path(__file__).parent
SCALE = {"add": lambda y: y + 1e3, "div": lambda y: y * 1e-3}
ORIGINAL = edge.swapped_edge
seen: list[dict[str, Any]] = []


def _spy(start, record, layout, X, y, span, sign, edge_phi, budget, room, fitted, *rest):  # type: ignore[no-untyped-def]
    out = ORIGINAL(start, record, layout, X, y, span, sign, edge_phi, budget, room, fitted, *rest)
    if sign > 0:
        seen.append({
            "theta": [float(v) for v in start.theta], "phi": [float(v) for v in start.phi],
            "objective": float(start.objective), "evaluations": int(start.record.evaluations),
            "record": {"x": [float(v) for v in record.theta], "objective": float(record.objective),
                       "evaluations": int(record.evaluations), "converged": bool(record.converged)},
            "budget": int(budget), "room": int(room), "fitted": float(fitted), "span": int(span),
            "result": float(out.objective),
        })  # fmt: skip
    return out


def main() -> None:
    edge.swapped_edge = _spy  # type: ignore[assignment]
    points = {}
    for name, scale in SCALE.items():
        d = pd.read_csv(HERE / "m10.csv")
        d["y"] = scale(d["y"])
        d["occf"] = pd.Categorical(d["occf"], categories=[f"o{j}" for j in range(1, 6)])
        seen.clear()
        mf.lmer("y ~ x + ar1(0 + occf | Subject, hom=False)", d, reml=False,
                residual=mf.AR1("occ", "Subject") & mf.VarIdent("grp"))  # fmt: skip
        points[name] = seen[0]
    (HERE / "m10_edge_start.json").write_text(json.dumps(points, indent=1) + "\n")


if __name__ == "__main__":
    main()
