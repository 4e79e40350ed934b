"""PRISM-language build benchmark: `proofs show PROGRAM` as a user runs it beside Storm's exact build.

For each generated grid program (an N×N slippery robot, written to the output directory) and every
repetition, two fresh processes run one after the other:

* ours:  ``python -m proofs show PROGRAM`` (the whole command: imports, the state-limit probe,
  Storm's exact build, reading every number exactly, validation, the summary);
* Storm: a fresh Python process that imports stormpy, parses the program and builds it with
  ``build_model[stormpy.Rational]`` (the exact build our reader starts from), timed from process start.

The table gives medians of wall time and peak RSS, and the ratio ours/Storm.

Usage::

    python bench/prism_build.py [--sides 100,316] [--repeat 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DEFAULT_OUT, run_child  # noqa: E402

PROGRAM = """mdp
const int N = {side};
const double slip = 0.1;
module robot
  x : [0..N-1] init 0;
  y : [0..N-1] init 0;
  [east]  x<N-1 -> 1-slip:(x'=x+1) + slip:(y'=max(y-1,0));
  [west]  x>0   -> 1-slip:(x'=x-1) + slip:(y'=max(y-1,0));
  [north] y<N-1 -> 1-slip:(y'=y+1) + slip:(x'=max(x-1,0));
  [south] y>0   -> 1-slip:(y'=y-1) + slip:(x'=min(x+1,N-1));
endmodule
label "goal" = x=N-1 & y=0;
label "fatal" = y=0 & x>0 & x<N-1;
rewards "r"
  [east] x=N-2 & y=0 : 1;
endrewards
"""

STORM = """
import json, time
start = time.perf_counter()
import stormpy
program = stormpy.parse_prism_program({path!r})
model = stormpy.build_model[stormpy.Rational](program, options=stormpy.BuilderOptions(build_full=True))
print(json.dumps({{"seconds": time.perf_counter() - start, "states": model.nr_states}}))
"""

OURS = """
import json, sys, time
start = time.perf_counter()
from proofs.cli import main
try:
    main(["show", {path!r}, "--json"])
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""


def measure(path: Path, repeat: int) -> dict[str, Any]:
    ours, storm = [], []
    for _ in range(repeat):
        ours.append(run_child([sys.executable, "-c", OURS.format(path=str(path))]))
        storm.append(run_child([sys.executable, "-c", STORM.format(path=str(path))]))
    for r in ours + storm:
        if "error" in r:
            raise SystemExit(f"{path}: {r['error']}")

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    return {"states": storm[0]["states"], "ours_s": median(ours, "seconds"), "storm_s": median(storm, "seconds"),
            "ours_mb": median(ours, "peak_rss_mb"), "storm_mb": median(storm, "peak_rss_mb")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="100,316", help="grid sides N (N×N states), comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print("| program | states | ours (proofs show) | Storm exact build | ratio | peak RSS ours / Storm |")
    print("|---|---|---|---|---|---|")
    for side in (int(s) for s in args.sides.split(",")):
        path = args.out / f"grid_{side}.nm"
        path.write_text(PROGRAM.format(side=side))
        started = time.perf_counter()
        r = measure(path, args.repeat)
        print(f"| grid_{side}.nm | {r['states']:,} | {r['ours_s']:.2f} s | {r['storm_s']:.2f} s | "
              f"{r['ours_s'] / r['storm_s']:.1f}x | {r['ours_mb']:.0f} / {r['storm_mb']:.0f} MB |", flush=True)
        print(f"(measured in {time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
