"""The largest generated model the `smt` alignment engine decides within a budget (default 10 s).

For ``random`` (the benchmark family: 4 actions, 3 successors, probabilities in 1e-6 units) and
``grid`` models, doubles the size until the engine answers ``unknown`` (its ``timeout_ms`` budget
covers the whole call), then bisects. The lemma: every policy within ε of optimal has
``P<=1/100 [ F "fatal" ]``.

Usage::

    python bench/smt_scale.py random 10 1/2          # horizon 10, ε = 1/2
    python bench/smt_scale.py random geometric 1/2   # γ = 9/10
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.mdps import grid_mdp, random_mdp

from proofs.core.formula import Comparison, Eventually, Label, ProbabilityConstraint
from proofs.core.objective import Objective
from proofs.engines import smt

FAMILIES = {"random": random_mdp, "grid": grid_mdp}


def probe(family: str, size: int, horizon: str, eps: Fraction, budget: float) -> tuple[dict[str, Any], bool]:
    mdp = FAMILIES[family](size)
    objective = Objective("r", None, Fraction(9, 10)) if horizon == "geometric" else Objective("r", int(horizon))
    phi = [ProbabilityConstraint(Comparison.LE, Fraction(1, 100), Eventually(Label("fatal")))]
    start = time.perf_counter()
    result = smt.discharge_alignment(mdp, objective, eps, phi, timeout_ms=int(budget * 1000))
    row = {"states": mdp.n_states, "choices": mdp.n_choices, "transitions": mdp.n_transitions,
           "status": result.status, "seconds": round(time.perf_counter() - start, 2)}
    return row, result.status != "unknown"


def main() -> int:
    family, horizon, eps = sys.argv[1], sys.argv[2], Fraction(sys.argv[3])
    budget = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    size, lo, hi, best = 8, None, None, None
    while hi is None:
        row, ok = probe(family, size, horizon, eps, budget)
        print(row, flush=True)
        if ok:
            best, lo, size = row, size, size * 2
        else:
            hi = size
    while lo is not None and hi - lo > max(2, lo // 10):
        mid = (lo + hi) // 2
        row, ok = probe(family, mid, horizon, eps, budget)
        print(row, flush=True)
        if ok:
            best, lo = row, mid
        else:
            hi = mid
    print("largest within budget:", best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
