"""Alignment-lemma benchmark: our decision + kernel check beside Storm's `multi(...)` on the same files.

For each generated model (cached by ``bench/run.py``'s ``ensure_model``), in fresh processes:

* ours: load the model (reported, not counted); J* by a float backward induction (not timed: Storm's
  threshold v comes from its own separate ``Rmax`` query too); then time ``discharge_alignment``
  for the lemma "every policy with J >= 0.9·J* (C<=50) has P(F<=50 "fatal") <= 1/2" (the engine:
  search plus its sound claims) and the trusted kernel's check of the certificate it wrote;
* Storm: explicit-parser build, ``Rmax=? [C<=50]`` (not timed), then
  ``multi(Pmax=? [F<=50 "fatal"], R>=v [C<=50])`` with v = 0.9·Rmax, Storm's default precision.

The worst fatal probability over the ε-optimal policies is Storm's multi value (within its 1e-4);
ours is a sound enclosure. Peak RSS is each child's own, from ``wait4``.

Usage::

    python bench/alignment_lemma.py [--sizes 1e5,1e6] [--families grid,random] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import DEFAULT_OUT, ensure_model, model_size, run_child

HORIZON = 50
THRESHOLD = "1/2"


def worker_ours(tra: Path) -> dict[str, Any]:
    import numpy as np

    from proofs.core.formula import Comparison, Eventually, Label, ProbabilityConstraint
    from proofs.core.objective import Objective
    from proofs.engines.alignment import certificate_body, certificate_fields
    from proofs.engines.lagrangian import discharge_alignment
    from proofs.kernel.check_alignment import check_alignment_certificate
    from proofs.kernel.check_alignment_float import check_float_alignment
    from proofs.worldmodel.load import load_mdp

    start = time.perf_counter()
    mdp = load_mdp(tra)
    load_s = time.perf_counter() - start
    objective = Objective("r", HORIZON)
    r, v = mdp.rewards["r"].floats(), np.zeros(mdp.n_states)
    from scipy.sparse import csr_matrix

    p = csr_matrix((mdp.float_probability, mdp.target, mdp.row_start), shape=(mdp.n_choices, mdp.n_states))
    for _ in range(HORIZON):
        v = np.maximum.reduceat(r + p @ v, mdp.choice_start[:-1])
    j_star = float(v[mdp.initial_states[0]])
    epsilon = Fraction(0.1 * j_star).limit_denominator(10**9)
    phi = [ProbabilityConstraint(Comparison.LE, Fraction(THRESHOLD), Eventually(Label("fatal"), HORIZON))]
    start = time.perf_counter()
    result = discharge_alignment(mdp, objective, epsilon, phi)
    discharge_s = time.perf_counter() - start
    fields = certificate_fields(result)
    start = time.perf_counter()
    if fields["witness"].get("arithmetic") == "float":
        check_float_alignment(certificate_body(result, objective, epsilon), result.status, mdp, objective, epsilon, phi,
                              result.arrays)
    else:
        check_alignment_certificate(certificate_body(result, objective, epsilon), result.status, mdp, objective,
                                    epsilon, phi)
    check_s = time.perf_counter() - start
    worst = result.constraints[0].worst if result.constraints else None
    return {"states": mdp.n_states, "transitions": mdp.n_transitions, "load_seconds": load_s,
            "discharge_seconds": discharge_s, "check_seconds": check_s, "status": result.status,
            "worst_lo": float(worst.lo) if worst else None, "worst_hi": float(worst.hi) if worst else None,
            "width": float(worst.hi - worst.lo) if worst else None, "reason": result.reason,
            "witness": fields["witness"].get("arithmetic", "exact")}


def worker_storm(tra: Path) -> dict[str, Any]:
    import stormpy

    start = time.perf_counter()
    model = stormpy.build_model_from_explicit(str(tra), str(tra.with_suffix(".lab")),
                                              transition_rewards=str(tra.with_suffix(".transrew")))
    build_s = time.perf_counter() - start
    rmax = stormpy.model_checking(model, stormpy.parse_properties(f"Rmax=? [C<={HORIZON}]")[0])
    v = 0.9 * float(rmax.get_value(model.initial_states[0]))
    prop = stormpy.parse_properties(f'multi(Pmax=? [F<={HORIZON} "fatal"], R>={v!r} [C<={HORIZON}])')[0]
    start = time.perf_counter()
    res = stormpy.model_checking(model, prop)
    check_s = time.perf_counter() - start
    return {"build_seconds": build_s, "check_seconds": check_s, "value": float(res.get_value(model.initial_states[0]))}


def run(kind: str, tra: Path) -> dict[str, Any]:
    return run_child([sys.executable, __file__, "--worker", kind, str(tra)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "TRA"))
    parser.add_argument("--sizes", default="1e5,1e6")
    parser.add_argument("--families", default="grid,random")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.worker:
        kind, tra = args.worker
        print(json.dumps((worker_ours if kind == "ours" else worker_storm)(Path(tra))))
        return 0
    DEFAULT_OUT.mkdir(parents=True, exist_ok=True)
    print("| model | ours decide s | ours check s | Storm multi s | ratio decide/Storm | ours load s / Storm build s "
          "| status | worst (ours, enclosure) | width | Storm value | peak RSS ours / Storm MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for family in args.families.split(","):
        for size in args.sizes.split(","):
            tra = ensure_model(family, model_size(family, float(size)), DEFAULT_OUT)
            ours = [run("ours", tra) for _ in range(args.repeat)]
            storm = [run("storm", tra) for _ in range(args.repeat)]
            if any("error" in r for r in ours + storm):
                print(f"| {tra.stem} | error: {[r.get('error') for r in ours + storm]} |", flush=True)
                continue
            med = lambda runs, k: statistics.median(r[k] for r in runs)
            decide, multi = med(ours, "discharge_seconds"), med(storm, "check_seconds")
            first = ours[0]
            worst = f"[{first['worst_lo']:.7f}, {first['worst_hi']:.7f}]" if first["worst_lo"] is not None else "-"
            width = f"{first['width']:.1e}" if first["width"] is not None else "-"
            print(f"| {tra.stem} | {decide:.2f} | {med(ours, 'check_seconds'):.2f} | {multi:.2f} | {decide / multi:.2f} "
                  f"| {med(ours, 'load_seconds'):.1f} / {med(storm, 'build_seconds'):.1f} | {first['status']} "
                  f"({first['witness']}) | {worst} | {width} | {storm[0]['value']:.6f} "
                  f"| {med(ours, 'peak_rss_mb'):.0f} / {med(storm, 'peak_rss_mb'):.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
