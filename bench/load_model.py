"""Loading an explicit model exactly, beside Storm's explicit parser: time and peak memory.

For each model (``STEM.tra`` with ``STEM.lab`` and ``STEM.transrew`` beside it, as written by
``bench/generate.py``) and every repetition, fresh processes run one after the other, so each peak
RSS belongs to one measurement and noise on a shared machine hits every side alike:

* **ours**: ``load_mdp(STEM.tra)``: every probability and reward an exact rational, every
  distribution checked to sum to exactly 1, transition rewards folded into r(s, a) exactly;
* **Storm float**: ``stormpy.build_model_from_explicit`` on the same three files. Storm's explicit
  parser reads doubles only (there is no exact mode for ``.tra`` files), so this is the baseline;
* **Storm exact** (with ``--storm-exact``): ``build_model_from_drn[stormpy.Rational]``, Storm's own
  exact parser, on the same model written once as DRN (probabilities and the folded rewards as
  exact ``n/d``) into ``--work`` (a temporary directory by default). A different file, the
  same numbers: for reference only.

Libraries (numpy, stormpy, the `proofs` reader modules) are imported before the clock starts,
on every side. Peak RSS is each child's own ``ru_maxrss`` from ``os.wait4`` (so it includes the
interpreter and the libraries; ``base`` is the child's RSS just before loading). The table gives
medians over the repetitions and the ratios ours / Storm float.

Usage::

    python bench/load_model.py MODEL.tra [MODEL.tra ...] [--repeat 3] [--storm-exact] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import run_child

SIDES = ("ours", "storm", "storm-exact")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def sibling(tra: Path, suffix: str) -> Path:
    return tra.with_suffix(suffix)


# -- workers (each in its own process) ---------------------------------------------------------------
def worker_ours(tra: Path) -> dict[str, Any]:
    import proofs.worldmodel.explicit  # noqa: F401  (imported lazily by load_mdp)
    from proofs.worldmodel.load import load_mdp

    base = _rss_mb()
    start = time.perf_counter()
    mdp = load_mdp(tra)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "base_mb": base, "states": mdp.n_states, "choices": mdp.n_choices,
            "transitions": mdp.n_transitions}


def worker_storm(tra: Path) -> dict[str, Any]:
    import stormpy

    rewards = sibling(tra, ".transrew")
    base = _rss_mb()
    start = time.perf_counter()
    model = stormpy.build_model_from_explicit(
        str(tra), str(sibling(tra, ".lab")), transition_rewards=str(rewards) if rewards.exists() else None)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "base_mb": base, "states": model.nr_states, "choices": model.nr_choices,
            "transitions": model.nr_transitions}


def worker_storm_exact(drn: Path) -> dict[str, Any]:
    import stormpy

    base = _rss_mb()
    start = time.perf_counter()
    model = stormpy.build_model_from_drn[stormpy.Rational](str(drn))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "base_mb": base, "states": model.nr_states, "choices": model.nr_choices,
            "transitions": model.nr_transitions}


def write_drn(tra: Path, drn: Path) -> None:
    """The model of `tra`, as our reader reads it, in Storm's DRN format with exact ``n/d`` numbers
    (the folded r(s, a) as the action reward of reward model ``r``)."""
    import numpy as np

    from proofs.worldmodel.load import load_mdp

    mdp = load_mdp(tra)
    names = sorted(mdp.rewards)
    labels: list[list[str]] = [[] for _ in range(mdp.n_states)]
    for name, mask in mdp.labels.items():
        for s in np.flatnonzero(mask).tolist():
            labels[s].append(name)
    choice_start, row_start = mdp.choice_start.tolist(), mdp.row_start.tolist()
    target = mdp.target.tolist()
    assert mdp.probability is not None
    p_num, p_den = mdp.probability.num.tolist(), mdp.probability.den.tolist()
    rewards = [(r.num.tolist(), r.den.tolist()) for r in (mdp.rewards[n] for n in names)]
    with drn.open("w") as out:
        out.write(f"@type: MDP\n@parameters\n\n@reward_models\n{' '.join(names)}\n"
                  f"@nr_states\n{mdp.n_states}\n@nr_choices\n{mdp.n_choices}\n@model\n")
        for s in range(mdp.n_states):
            out.write(f"state {s} {' '.join(labels[s])}\n")
            for c in range(choice_start[s], choice_start[s + 1]):
                reward = ", ".join(f"{num[c]}/{den[c]}" for num, den in rewards)
                out.write(f"\taction {c - choice_start[s]} [{reward}]\n" if rewards
                          else f"\taction {c - choice_start[s]}\n")
                out.writelines(f"\t\t{target[t]} : {p_num[t]}/{p_den[t]}\n"
                               for t in range(row_start[c], row_start[c + 1]))


def worker_main(kind: str, path: Path, work: Path | None) -> int:
    """Run one worker in this (fresh) process. Writing DRN runs in a child too: a child forked from
    a parent that had loaded a model would report the parent's peak as its own ``ru_maxrss``."""
    if kind == "drn":
        assert work is not None
        write_drn(path, work / f"{path.stem}.drn")
        print(json.dumps({}))
        return 0
    workers = {"ours": worker_ours, "storm": worker_storm, "storm-exact": worker_storm_exact}
    print(json.dumps(workers[kind](path)))
    return 0


# -- measurement and the table ----------------------------------------------------------------------
def run_worker(kind: str, path: Path) -> dict[str, Any]:
    return run_child([sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(path)])


def measure(tra: Path, repeat: int, drn: Path | None) -> dict[str, Any]:
    """Every side `repeat` times, interleaved; the medians and every single run."""
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES if side != "storm-exact" or drn}
    for _ in range(repeat):
        for side, results in runs.items():
            results.append(run_worker(side, drn if side == "storm-exact" and drn else tra))
    row: dict[str, Any] = {"model": tra.stem, "runs": runs}
    for side, results in runs.items():
        errors = [r["error"] for r in results if "error" in r]
        if errors:
            row[f"{side}_error"] = errors[0]
            continue
        row[side] = {key: statistics.median(r[key] for r in results) for key in ("seconds", "peak_rss_mb", "base_mb")}
        row["size"] = (results[0]["states"], results[0]["choices"], results[0]["transitions"])
        sizes = {(r["states"], r["choices"], r["transitions"]) for r in results}
        if len(sizes) > 1 or sizes != {row["size"]}:
            row["size_mismatch"] = sorted(sizes)
    sizes = {(r["states"], r["choices"], r["transitions"]) for rs in runs.values() for r in rs if "error" not in r}
    row["same_size"] = len(sizes) == 1
    return row


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| model | states / choices / transitions | ours (exact) | Storm explicit (float) | time ratio "
            "| peak RSS ours / Storm | RSS ratio | Storm DRN (exact) | peak RSS Storm exact |")
    columns = head.count("|") - 1
    lines = [head, "|" + "---|" * columns]
    for r in rows:
        ours, storm, exact = r.get("ours"), r.get("storm"), r.get("storm-exact")
        if ours is None or storm is None:
            error = r.get("ours_error") or r.get("storm_error")
            lines.append(f"| {r['model']} | error: {error} |" + " |" * (columns - 2))
            continue
        s, c, t = r["size"]
        exact_time = f"{exact['seconds']:.3g} s" if exact else r.get("storm-exact_error", "–")
        exact_rss = f"{exact['peak_rss_mb']:.0f} MB" if exact else "–"
        lines.append(
            f"| {r['model']} | {s:,} / {c:,} / {t:,} | {ours['seconds']:.3g} s | {storm['seconds']:.3g} s "
            f"| {ours['seconds'] / storm['seconds']:.2f} | {ours['peak_rss_mb']:.0f} / {storm['peak_rss_mb']:.0f} MB "
            f"| {ours['peak_rss_mb'] / storm['peak_rss_mb']:.2f} | {exact_time} | {exact_rss} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", type=Path, help="the .tra files (with .lab and .transrew beside)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process runs per side and model")
    parser.add_argument("--storm-exact", action="store_true",
                        help="also time Storm's exact DRN parser on the model written as DRN")
    parser.add_argument("--work", type=Path, default=None, help="where DRN copies go (default: a temporary directory)")
    parser.add_argument("--json", type=Path, default=None, help="write every run and the medians here")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.worker[0], Path(args.worker[1]), args.work)
    if not args.models:
        parser.error("name at least one model (.tra)")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        for tra in args.models:
            drn = None
            if args.storm_exact:
                drn = work / f"{tra.stem}.drn"
                if not drn.exists():
                    print(f"writing {drn.name} ...", file=sys.stderr, flush=True)
                    written = run_child([sys.executable, str(Path(__file__).resolve()), "--worker", "drn", str(tra),
                                         "--work", str(work)])
                    if "error" in written:
                        raise SystemExit(f"{tra}: writing DRN: {written['error']}")
            started = time.perf_counter()
            rows.append(measure(tra, args.repeat, drn))
            print(f"{tra.stem}: measured in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print(table(rows))
    for r in rows:
        if not r["same_size"]:
            print(f"WARNING: {r['model']}: the sides disagree on the model's size", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
