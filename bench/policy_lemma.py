"""Policy-lemma benchmark: discharge + kernel check beside Storm's J* on the same files.

For each generated model (cached by ``bench/run.py``'s ``ensure_model``) and horizon (finite H = 50,
geometric γ = 0.95), two fresh processes per repetition:

* ours: load the model (reported, not counted) and π₀, a stationary near-optimal policy (step 0
  of the optimal finite-horizon policy: the "trained policy", made once per model by a separate
  process and cached as ``STEM.policy.npy``, so that neither its time nor its memory is counted),
  then time ``discharge_policy`` (engine) and ``check_policy_certificate`` (trusted kernel, on
  the certificate fields the engine produced);
* Storm: explicit-parser build, then ``Rmax=? [C<=50]`` or ``Rmax=? [Cdiscount=0.95]``.

The issue's target compares our discharge + check with Storm's check time alone (computing J*).
Peak RSS is each child's own, from ``wait4``.

Usage::

    python bench/policy_lemma.py [--sizes 1e6] [--families grid,random] [--repeat 3]
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

HORIZONS = {"H=50": 50, "gamma=0.95": None}


def policy_file(tra: Path) -> Path:
    return tra.with_suffix(".policy.npy")


def worker_train(tra: Path, horizon: int | None) -> dict[str, Any]:
    """The "trained" policy: each state's choice at step 0 of an optimal policy for ``C<=50``."""
    import numpy as np

    from proofs.core.objective import Objective
    from proofs.semantics.evaluate import optimal
    from proofs.worldmodel.load import load_mdp

    mdp = load_mdp(tra)
    layer = optimal(mdp, Objective("r", 50), exact_mode=False).policy.at(0)
    choice = np.full(mdp.n_states, -1, dtype=np.int64)
    defined = np.flatnonzero(np.diff(layer.start) > 0)
    choice[defined] = layer.choice[layer.start[defined]]
    np.save(policy_file(tra), choice)
    return {"states": mdp.n_states}


def worker_ours(tra: Path, horizon: int | None) -> dict[str, Any]:
    import numpy as np

    import proofs.worldmodel.explicit  # noqa: F401
    from proofs.core.objective import Objective
    from proofs.core.policy import Policy, PolicyLayer
    from proofs.engines.policy import discharge_policy
    from proofs.kernel.check_policy import check_policy_certificate
    from proofs.policy.canonical import reachable_table
    from proofs.worldmodel.load import load_mdp

    start = time.perf_counter()
    mdp = load_mdp(tra)
    load_s = time.perf_counter() - start
    finite = Objective("r", 50)
    objective = finite if horizon is not None else Objective("r", None, Fraction(95, 100))
    policy = Policy.stationary(PolicyLayer.deterministic(mdp, np.load(policy_file(tra))))
    epsilon = Fraction(1)
    start = time.perf_counter()
    result = discharge_policy(mdp, objective, policy, epsilon, exact_mode=False)
    discharge_s = time.perf_counter() - start
    fields = result.certificate_fields(objective, epsilon)
    table = reachable_table(mdp, policy, objective.horizon)   # the table `proofs prove` writes for the kernel
    start = time.perf_counter()
    checked = check_policy_certificate(fields, result.status, mdp, objective, table, epsilon, result.arrays or None)
    check_s = time.perf_counter() - start
    return {"states": mdp.n_states, "transitions": mdp.n_transitions, "load_seconds": load_s,
            "discharge_seconds": discharge_s, "check_seconds": check_s, "status": checked.status,
            "gap_hi": float(checked.gap.hi), "jstar_width": float(checked.j_star.width)}


def worker_storm(tra: Path, horizon: int | None) -> dict[str, Any]:
    import stormpy

    start = time.perf_counter()
    model = stormpy.build_model_from_explicit(str(tra), str(tra.with_suffix(".lab")),
                                              transition_rewards=str(tra.with_suffix(".transrew")))
    build_s = time.perf_counter() - start
    query = "Rmax=? [C<=50]" if horizon is not None else "Rmax=? [Cdiscount=0.95]"
    prop = stormpy.parse_properties(query)[0]
    start = time.perf_counter()
    res = stormpy.model_checking(model, prop)
    check_s = time.perf_counter() - start
    return {"build_seconds": build_s, "check_seconds": check_s,
            "value": float(res.get_value(model.initial_states[0]))}


def run(kind: str, tra: Path, label: str) -> dict[str, Any]:
    return run_child([sys.executable, __file__, "--worker", kind, str(tra), label])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "TRA", "HORIZON"))
    parser.add_argument("--sizes", default="1e6")
    parser.add_argument("--families", default="grid,random")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.worker:
        kind, tra, label = args.worker
        fn = {"ours": worker_ours, "storm": worker_storm, "train": worker_train}[kind]
        print(json.dumps(fn(Path(tra), HORIZONS[label])))
        return 0
    DEFAULT_OUT.mkdir(parents=True, exist_ok=True)
    print("| model | horizon | ours discharge s | ours check s | ours total s | Storm J* check s | ratio total/Storm "
          "| status | peak RSS ours / Storm MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for family in args.families.split(","):
        for size in args.sizes.split(","):
            tra = ensure_model(family, model_size(family, float(size)), DEFAULT_OUT)
            cached = policy_file(tra)
            if not cached.exists() or cached.stat().st_mtime < tra.stat().st_mtime:
                trained = run("train", tra, "H=50")
                if "error" in trained:
                    print(f"| {tra.stem} | making the trained policy failed: {trained['error']} |")
                    continue
            for label in HORIZONS:
                ours = [run("ours", tra, label) for _ in range(args.repeat)]
                storm = [run("storm", tra, label) for _ in range(args.repeat)]
                if any("error" in r for r in ours + storm):
                    print(f"| {tra.stem} | {label} | error: {[r.get('error') for r in ours + storm]} |")
                    continue
                med = lambda runs, k: statistics.median(r[k] for r in runs)
                total = med(ours, "discharge_seconds") + med(ours, "check_seconds")
                print(f"| {tra.stem} | {label} | {med(ours, 'discharge_seconds'):.2f} | {med(ours, 'check_seconds'):.2f} "
                      f"| {total:.2f} | {med(storm, 'check_seconds'):.2f} | {total / med(storm, 'check_seconds'):.2f} "
                      f"| {ours[0]['status']} | {med(ours, 'peak_rss_mb'):.0f} / {med(storm, 'peak_rss_mb'):.0f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
