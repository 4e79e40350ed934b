"""Robust lemmas on interval models, as a user runs them, beside Storm's robust query.

For every random model ``random_n`` (``bench/generate.py``, generated into MODELS when missing) the
script writes, once and untimed, ``random_n-interval.drn``: every probability p widened to
[0.9p, min(1, 1.1p)] (exact decimals; `tests.support.mdps.widened`, `proofs.interop.storm.to_drn`).
It then builds a project per model::

    pyproject.toml                          [tool.proofs] (defaults)
    worldmodels/random_n-interval.drn       a symbolic link to MODELS (read through, as a file)
    policies/random_n.gamma0.95.q.npy       the "trained" policy of bench/e2e.py (greedy on the point model)
    obligations/robust.toml                 the policy lemma: J_lo(π₀) ≥ J*_robust − ε over H steps

with J = ``R{"r"}`` cumulative over H steps (``--horizon``), J_lo(π₀) nature's worst case for the
policy and J*_robust = max over policies of the same; ε = J*/10 (six decimals, from Storm's value).
With ``--lemma alignment`` the lemma is instead bench/e2e.py's alignment lemma on the interval model
(every robustly ε-optimal policy has ``P<=1/2 [ F<=H "fatal" ]`` in its own worst case over nature),
for which Storm has no counterpart (no multi-objective queries on interval models): its build and
robust ``Rmax`` are printed as the reference. ``--family grid`` takes the grid family instead.
Each repetition times, each in a fresh process (wall clock of the parent, peak RSS by ``wait4``):

* ``proofs prove`` cold (``.proofs/`` and ``certificates/`` removed first), ``proofs check`` and
  ``proofs check --kernel-only``;
* Storm: ``build_model_from_drn[stormpy.Interval]`` of the same file, then ``Rmax=? [C<=H]`` under
  ``UncertaintyResolutionMode.ROBUST`` (floats, no certificate) in one process.

The headline is ``prove`` + ``check`` against Storm's build + query; the phases of ``prove``
(``.proofs/phases.json``) are the breakdown. Medians over ``--repeat``; the machine is noisy.

Usage::

    python bench/robust_policy.py MODELS [--sizes 1e5,1e6] [--horizon 20] [--repeat 1] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ensure_model, model_size

from e2e import Run, phases_of, proofs_command, run_proofs, timed, trained_policy

LEMMA = "robust.policy"


def worker_interval(tra: Path, out: Path) -> dict[str, Any]:
    """Write the interval DRN of an explicit model (atomically: a half-written file never stays)."""
    sys.path.insert(0, str(HERE.parent))
    from tests.support.mdps import widened

    from proofs.interop.storm import to_drn
    from proofs.worldmodel.load import load_mdp

    mdp = widened(load_mdp(tra))
    with tempfile.NamedTemporaryFile("w", dir=out.parent, delete=False, encoding="utf-8") as f:
        f.write(to_drn(mdp))
    os.replace(f.name, out)
    return {"states": mdp.n_states, "bytes": out.stat().st_size}


def worker_storm(drn: Path, horizon: int) -> dict[str, Any]:
    """Storm's interval build and robust ``Rmax=? [C<=H]`` (timed by the parent as a whole)."""
    import stormpy

    start = time.perf_counter()
    model = stormpy.build_model_from_drn[stormpy.Interval](str(drn))
    build_s = time.perf_counter() - start
    prop = stormpy.parse_properties(f"Rmax=? [C<={horizon}]")[0]
    start = time.perf_counter()
    result = stormpy.model_checking(model, prop, uncertainty_resolution_mode=stormpy.UncertaintyResolutionMode.ROBUST)
    query_s = time.perf_counter() - start
    return {"build_seconds": build_s, "query_seconds": query_s, "value": float(result.get_value(model.initial_states[0]))}


def child(args: list[str]) -> Run:
    run = timed([sys.executable, str(Path(__file__).resolve()), "--worker", *args])
    if run.ok():
        run.extra = json.loads(run.stdout.strip().splitlines()[-1])
    return run


def interval_model(tra: Path) -> Path:
    out = tra.with_name(f"{tra.stem}-interval.drn")
    if not out.exists() or out.stat().st_mtime < tra.stat().st_mtime:
        print(f"writing {out.name} (not timed) ...", flush=True)
        run = child(["interval", str(tra), str(out)])
        if not run.ok():
            raise SystemExit(f"writing the interval model failed: {run.brief()}")
    return out


def make_project(root: Path, drn: Path, policy: Path | None, horizon: int, epsilon: str) -> Path:
    """The policy lemma of ``policy``, or (None) the alignment lemma of bench/e2e.py on the interval model."""
    if root.exists():
        shutil.rmtree(root)
    for folder in ("worldmodels", "policies", "obligations"):
        (root / folder).mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.proofs]\n")
    (root / "worldmodels" / drn.name).symlink_to(drn.resolve())
    if policy is not None:
        shutil.copyfile(policy, root / "policies" / policy.name)
        body = f'kind = "policy"\npolicy = "../policies/{policy.name}"\nepsilon = "{epsilon}"\n'
    else:
        body = f'kind = "alignment"\nepsilon = "{epsilon}"\ndesirable = [\'P<=1/2 [ F<={horizon} "fatal" ]\']\n'
    (root / "obligations" / "robust.toml").write_text(
        f'[worldmodel]\npath = "../worldmodels/{drn.name}"\n\n[objective]\nreward = "r"\nhorizon = {horizon}\n\n'
        f'[[lemma]]\nid = "{LEMMA}"\n{body}')
    return root


def _median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def bench(tra: Path, lemma: str, horizon: int, repeat: int, work: Path) -> dict[str, Any]:
    drn = interval_model(tra)
    policy = trained_policy(tra) if lemma == "policy" else None
    proofs = proofs_command()
    runs: dict[str, list[Run]] = {"prove": [], "check": [], "kernel-only": [], "storm": []}
    epsilon, project = None, None
    for k in range(repeat):
        storm = child(["storm", str(drn), str(horizon)])
        if not storm.ok():
            raise SystemExit(f"Storm failed: {storm.brief()}")
        runs["storm"].append(storm)
        if project is None:
            j_star = storm.extra["value"]
            epsilon = str(Decimal(repr(0.1 * j_star)).quantize(Decimal("0.000001")))
            project = make_project(work / f"{tra.stem}-robust-{lemma}", drn, policy, horizon, epsilon)
            print(f"{tra.stem}: robust J* = {j_star:.6f} (Storm), ε = {epsilon}; project {project}", flush=True)
        for name in ("certificates", ".proofs"):
            shutil.rmtree(project / name, ignore_errors=True)
        for key, args in (("prove", ["prove"]), ("check", ["check"]), ("kernel-only", ["check", "--kernel-only"])):
            run = run_proofs(proofs, project, args)
            if run.returncode not in (0, 1) or "Traceback" in run.stderr:   # 1: a lemma refuted (or unknown)
                raise SystemExit(f"proofs {' '.join(args)} failed: {run.brief()}\n{run.stdout[-2000:]}")
            runs[key].append(run)
            phases = phases_of(run.extra.get("phases")) or {}
            print(f"  [{k + 1}/{repeat}] proofs {' '.join(args)}: {run.brief()} "
                  f"{' '.join(f'{p} {s:.2f}' for p, s in phases.items())}", flush=True)
        print(f"  [{k + 1}/{repeat}] Storm build + robust Rmax=? [C<={horizon}]: {storm.brief()} "
              f"(build {storm.extra['build_seconds']:.2f}, query {storm.extra['query_seconds']:.2f})", flush=True)
    assert project is not None
    certificate = json.loads((project / "certificates" / f"{LEMMA}.json").read_text())
    values = certificate.get("values", {})
    return {"model": tra.stem, "lemma": lemma, "status": certificate.get("status"), "epsilon": epsilon, "values": values,
            "storm_value": runs["storm"][0].extra["value"],
            **{f"{key}_s": _median(r) for key, r in runs.items()},
            "storm_build_s": statistics.median(r.extra["build_seconds"] for r in runs["storm"]),
            "storm_query_s": statistics.median(r.extra["query_seconds"] for r in runs["storm"]),
            "rss_mb": {key: max(r.peak_rss_mb for r in rs) for key, rs in runs.items()}}


def report(rows: list[dict[str, Any]], horizon: int, repeat: int) -> str:
    lines = [f"python bench/robust_policy.py MODELS --horizon {horizon} --repeat {repeat} (medians, seconds)", "",
             ("| model | lemma | verdict | prove | check | check --kernel-only | Storm build + robust Rmax | "
              "(prove + check) / Storm | kernel-only / prove | peak RSS prove / check / Storm MB |"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ours = r["prove_s"] + r["check_s"]
        rss = r["rss_mb"]
        lines.append(f"| {r['model']} | {r['lemma']} | {r['status']} | {r['prove_s']:.2f} | {r['check_s']:.2f} | "
                     f"{r['kernel-only_s']:.2f} | {r['storm_s']:.2f} ({r['storm_build_s']:.2f} + {r['storm_query_s']:.2f}) | "
                     f"{ours / r['storm_s']:.2f} | {r['kernel-only_s'] / r['prove_s']:.2f} | "
                     f"{rss['prove']:.0f} / {rss['check']:.0f} / {rss['storm']:.0f} |")
    lines.append("")
    for r in rows:
        lines.append(f"{r['model']} ({r['lemma']}): J* {r['values'].get('j_star')} (Storm {r['storm_value']!r}), "
                     f"{r['values'].get('j_policy') or r['values'].get('constraints')}, ε = {r['epsilon']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        kind = argv[1]
        result = worker_interval(Path(argv[2]), Path(argv[3])) if kind == "interval" else \
            worker_storm(Path(argv[2]), int(argv[3]))
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", type=Path)
    parser.add_argument("--sizes", default="1e5")
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--lemma", choices=["policy", "alignment"], default="policy",
                        help="the policy lemma of the trained policy, or the alignment lemma of bench/e2e.py "
                             "(Storm answers no multi-objective query on interval models: its robust Rmax is the reference)")
    parser.add_argument("--family", choices=["random", "grid"], default="random")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="proofs-robust-"))
    rows = [bench(ensure_model(args.family, model_size(args.family, float(size)), args.models), args.lemma,
                  args.horizon, args.repeat, work) for size in args.sizes.split(",")]
    print()
    print(report(rows, args.horizon, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
