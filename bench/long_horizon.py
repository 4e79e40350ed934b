"""Long horizons: the alignment lemma from a PRISM program at H = 1e3 … 1e4, as a user runs it.

A generated grid program (an N×N robot whose slips push it towards a fatal edge; reward 1 per
step spent in the goal corner) is put in a temporary project with one alignment lemma: every
policy with J ≥ J* − ε (ε = J*/10, J = ``R{"r"}`` cumulative over H steps) has
``P<=1/2 [ F "fatal" ]`` within the episode. For every horizon, in fresh processes:

* ours: ``proofs prove`` (cold: no ``.proofs/``, no certificate) and then ``proofs check``, each
  the whole command (imports, the PRISM build through Storm, the decision, writing and checking);
* Storm: a fresh Python process that builds the program (floats) and answers
  ``multi(Pmax=? [F<=H "fatal"], R{"r"}>=v [C<=H])`` with v = J* − ε at Storm's default
  multi-objective precision (J* from ``Rmax=? [C<=H]``, computed first in its own process, whose
  time is printed too: the single-objective query, a floor for any alignment check).

The point of the table is memory and time: peak RSS must not grow with H beyond the witness (the
step tables of the hack, stored as the changes from one step to the next), and long episodes on a
small model are decided from their last K steps (the certificate's ``tail``, printed; ``-`` when
every step was searched). The witness size on disk is printed beside it; with ``--repeat``, the
median run of each command.

Usage::

    python bench/long_horizon.py [--side 224] [--horizons 1000,10000] [--repeat 1] [--lemma alignment|policy] [--out DIR]

With ``--lemma policy`` the project holds a policy lemma instead (a stationary policy: east along
the row, then south to the goal corner; ε = 1/100), and the Storm column is its build plus
``R{"r"}max=? [C<=H]`` (J* alone: Storm evaluates no given policy).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DEFAULT_OUT, run_child

PROGRAM = """mdp
const int N = {side};
const double slip = 0.1;
module robot
  x : [0..N-1] init 0;
  y : [0..N-1] init N-1;
  [east]  x<N-1 -> 1-slip:(x'=x+1) + slip:(y'=max(y-1,0));
  [west]  x>0   -> 1-slip:(x'=x-1) + slip:(y'=max(y-1,0));
  [north] y<N-1 -> 1-slip:(y'=y+1) + slip:(x'=max(x-1,0));
  [south] y>0   -> 1-slip:(y'=y-1) + slip:(y'=max(y-2,0));
  [stay]  x=N-1 & y=0 -> 1:true;
endmodule
label "fatal" = y=0 & x<N-1;
rewards "r"
  x=N-1 & y=0 : 1;
endrewards
"""

STORM = """
import json, time
start = time.perf_counter()
import stormpy
program = stormpy.parse_prism_program({path!r})
model = stormpy.build_model(program)
formula = 'multi(Pmax=? [F<={h} "fatal"], R{{"r"}}>={v} [C<={h}])'
result = stormpy.model_checking(model, stormpy.parse_properties(formula, program)[0])
print(json.dumps({{"seconds": time.perf_counter() - start, "value": result.get_value(model.initial_states[0])}}))
"""

J_STAR = """
import json, time
start = time.perf_counter()
import stormpy
program = stormpy.parse_prism_program({path!r})
model = stormpy.build_model(program)
result = stormpy.model_checking(model, stormpy.parse_properties('R{{"r"}}max=? [C<={h}]', program)[0])
print(json.dumps({{"j_star": result.get_value(model.initial_states[0]), "states": model.nr_states,
                  "seconds": time.perf_counter() - start}}))
"""

OURS = """
import json, os, sys, time
start = time.perf_counter()
os.chdir({root!r})
from proofs.cli import main
try:
    main([{command!r}, {target!r}])
except SystemExit as exit:
    code = exit.code or 0
print(json.dumps({{"seconds": time.perf_counter() - start, "code": code}}))
"""


def project(root: Path, program: Path, horizon: int, epsilon: Fraction, lemma: str = "alignment",
            side: int = 0) -> None:
    """A project as a user keeps one: pyproject.toml, worldmodels/, obligations/ (and policies/)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "worldmodels").mkdir(parents=True)
    (root / "obligations").mkdir()
    (root / "pyproject.toml").write_text("[tool.proofs]\n")
    shutil.copyfile(program, root / "worldmodels" / program.name)
    head = f'[worldmodel]\npath = "../worldmodels/{program.name}"\n\n[objective]\nreward = "r"\nhorizon = {horizon}\n\n'
    if lemma == "alignment":
        (root / "obligations" / "long.toml").write_text(
            head + f'[[lemma]]\nid = "long.alignment"\nkind = "alignment"\nepsilon = "{epsilon}"\n'
            "desirable = ['P<=1/2 [ F \"fatal\" ]']\n")
        return
    (root / "policies").mkdir()   # east along the row, then south to the goal corner, where it stays
    rows = [f'"x={x},y={y}",{"east" if x < side - 1 else "south" if y > 0 else "stay"}'
            for x in range(side) for y in range(side)]
    (root / "policies" / "robot.csv").write_text("state,action\n" + "\n".join(rows) + "\n")
    (root / "obligations" / "long.toml").write_text(
        head + '[[lemma]]\nid = "long.policy"\nkind = "policy"\npolicy = "../policies/robot.csv"\n'
        'epsilon = "1/100"\n')


def witness_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "certificates").rglob("*") if p.is_file())


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median time (its peak RSS with it)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def row(program: Path, horizon: int, work: Path, repeat: int, lemma: str = "alignment", side: int = 0) -> dict[str, Any]:
    star = run_child([sys.executable, "-c", J_STAR.format(path=str(program), h=horizon)])
    if "error" in star:
        raise SystemExit(f"Storm on {program}: {star['error']}")
    epsilon = Fraction(star["j_star"] / 10).limit_denominator(10**6)
    root = work / f"h{horizon}"
    v = float(Fraction(star["j_star"]) - epsilon)
    proves, checks, storms = [], [], []
    for _ in range(repeat):   # each repetition cold: a fresh project, no .proofs/, no certificate
        project(root, program, horizon, epsilon, lemma, side)
        proves.append(run_child([sys.executable, "-c", OURS.format(root=str(root), command="prove",
                                                                  target="obligations")]))
        checks.append(run_child([sys.executable, "-c", OURS.format(root=str(root), command="check",
                                                                  target="certificates")]))
        query = STORM.format(path=str(program), h=horizon, v=repr(v)) if lemma == "alignment" else \
            J_STAR.format(path=str(program), h=horizon)
        storms.append(run_child([sys.executable, "-c", query]))
        for r in (proves[-1], checks[-1], storms[-1]):
            if "error" in r:
                raise SystemExit(f"H = {horizon}: {r['error']}")
        if checks[-1]["code"] != 0:
            raise SystemExit(f"H = {horizon}: proofs check exited with {checks[-1]['code']}")
    certificate = json.loads(next((root / "certificates").rglob("*.json")).read_text())
    return {"states": star["states"], "prove": median_run(proves), "check": median_run(checks),
            "storm": median_run(storms), "status": certificate.get("status"), "witness_bytes": witness_bytes(root),
            "tail": certificate.get("witness", {}).get("tail"), "rmax": star}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=224, help="grid side N (N×N states)")
    parser.add_argument("--horizons", default="1000,10000", help="horizons H, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs per horizon (medians are printed)")
    parser.add_argument("--lemma", choices=("alignment", "policy"), default="alignment",
                        help="the alignment lemma (against Storm's multi), or the policy lemma of a policy that "
                             "heads east, then south (against Storm's Rmax)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    work = args.out / "long_horizon"
    work.mkdir(parents=True, exist_ok=True)
    program = work / f"cliff_{args.side}.nm"
    program.write_text(PROGRAM.format(side=args.side))
    storm = "multi" if args.lemma == "alignment" else "Rmax"
    print("| H | states | verdict | tail K | `proofs prove` | peak RSS | `proofs check` | peak RSS | certificate files "
          f"| Storm build + {storm} | peak RSS | ratio (prove + check) / Storm | Storm build + Rmax (one run) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for horizon in (int(h) for h in args.horizons.split(",")):
        started = time.perf_counter()
        r = row(program, horizon, work, args.repeat, args.lemma, args.side)
        p, c, s = r["prove"], r["check"], r["storm"]
        print(f"| {horizon:,} | {r['states']:,} | {r['status']} | {r['tail'] or '-'} | {p['seconds']:.1f} s | {p['peak_rss_mb']:.0f} MB "
              f"| {c['seconds']:.1f} s | {c['peak_rss_mb']:.0f} MB | {r['witness_bytes'] / 1e6:.1f} MB "
              f"| {s['seconds']:.1f} s | {s['peak_rss_mb']:.0f} MB "
              f"| {(p['seconds'] + c['seconds']) / s['seconds']:.1f}x | {r['rmax']['seconds']:.2f} s |", flush=True)
        print(f"(H = {horizon}: measured in {time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
