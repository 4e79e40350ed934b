"""Foundation benchmark: our loading and J* beside Storm's build and check, on the same files.

For every model (generated once by ``bench/generate.py`` and cached in the output directory) and
every repetition, two fresh processes run one after the other (so each peak RSS belongs to one
measurement, and noise on a shared machine hits both sides alike):

* ours:  ``load_mdp(STEM.tra)`` (wall time), then ``optimal(mdp, Objective("r", H),
  exact_mode=False)`` (wall time; the sound float enclosure of J*), and its width;
* Storm: ``stormpy.build_model_from_explicit`` (wall time) and ``Rmax=? [C<=H]`` (wall time and
  the value at the initial state), through ``bench/storm_baseline.py``.

Library imports (numpy, scipy, stormpy, the `proofs` modules) happen before the clocks start,
on both sides. Peak RSS is the child's own ``ru_maxrss`` from ``os.wait4`` (interpreter and libraries included).
Agreement: Storm's value lies in our enclosure widened by Storm's precision (relative 1e-6,
its default for sound float checks; for a step-bounded reward Storm does exactly H float
matrix-vector products, so in practice the value lies inside the enclosure itself, and the
distance is printed). The table shows medians over the repetitions and the ratios ours/Storm.

Usage::

    python bench/run.py [--sizes 1e4,1e5,1e6] [--families grid,random] [--repeat 3] [--out DIR]
    python bench/run.py --quick              # 1e4 only

Sizes map to models: grid 1e4/1e5/1e6 are N = 100/317/1000 (N×N states, the least N with
N² >= size), random n = size.
Results also go to ``DIR/results.json``. ``DIR`` defaults to ``bench/out`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out"
STORM_PRECISION = 1e-6
TIMEOUT = 3600


# -- models ------------------------------------------------------------------------------------------
def model_size(family: str, size: float) -> int:
    """The generator's size argument: the least grid side N with N² >= size, or the number of states.

    >>> [model_size("grid", s) for s in (1e4, 1e5, 1e6)], model_size("random", 1e5)
    ([100, 317, 1000], 100000)
    """
    if family == "grid":
        return math.isqrt(int(size) - 1) + 1
    if family == "random":
        return int(size)
    raise ValueError(f"unknown family {family!r}: use grid or random")


def ensure_model(family: str, size: int, out: Path) -> Path:
    """Generate ``family_size`` into ``out`` unless its three files are already there."""
    stem = out / f"{family}_{size}"
    files = [stem.with_name(f"{stem.name}.{kind}") for kind in ("tra", "lab", "transrew")]
    if not all(f.exists() and f.stat().st_size > 0 for f in files):
        print(f"generating {stem.name} ...", flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), family, str(size), "-o", str(out)], check=True)
    return files[0]


# -- workers (each in its own process) ---------------------------------------------------------------
def _self_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_ours(tra: Path, horizon: int) -> dict[str, Any]:
    # libraries are imported before the clock starts, as stormpy is for Storm
    import scipy.sparse  # noqa: F401  (imported lazily by the sound path)

    import proofs.worldmodel.explicit  # noqa: F401  (imported lazily by load_mdp)
    from proofs.core.objective import Objective
    from proofs.semantics.evaluate import optimal
    from proofs.worldmodel.load import load_mdp

    start = time.perf_counter()
    mdp = load_mdp(tra)
    load_s = time.perf_counter() - start
    rss_load = _self_rss_mb()
    start = time.perf_counter()
    opt = optimal(mdp, Objective("r", horizon), exact_mode=False)
    jstar_s = time.perf_counter() - start
    value = opt.value
    return {
        "states": mdp.n_states, "choices": mdp.n_choices, "transitions": mdp.n_transitions,
        "load_seconds": load_s, "jstar_seconds": jstar_s, "rss_after_load_mb": rss_load,
        "lo": str(value.lo), "hi": str(value.hi), "lo_float": float(value.lo), "hi_float": float(value.hi),
        "width": float(value.width), "exact": value.is_exact,
    }


def worker_storm(tra: Path, horizon: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from storm_baseline import run_baseline

    report = run_baseline(tra, horizon, ["rmax"])
    rmax = report["queries"]["rmax"]
    return {
        "states": report["states"], "choices": report["choices"], "transitions": report["transitions"],
        "build_seconds": report["build_seconds"], "check_seconds": rmax["seconds"], "value": rmax["value"],
    }


def run_worker(kind: str, tra: Path, horizon: int) -> dict[str, Any]:
    """Run one measurement of this script in a fresh process (`run_child`)."""
    return run_child([sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(tra),
                      "--horizon", str(horizon)])


def run_child(cmd: list[str]) -> dict[str, Any]:
    """Run a worker command that prints one JSON line; add its peak RSS (the child's own, from
    ``wait4``). A failure, or a run past `TIMEOUT`, gives ``{"error": ...}``."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        deadline = time.monotonic() + TIMEOUT
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return {"error": f"timeout after {TIMEOUT} s"}
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        return {"error": (stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]}
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def worker_main(kind: str, tra: Path, horizon: int) -> int:
    result = worker_ours(tra, horizon) if kind == "ours" else worker_storm(tra, horizon)
    print(json.dumps(result))
    return 0


# -- aggregation and the table ----------------------------------------------------------------------
def median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def spread(runs: list[dict[str, Any]], key: str) -> str:
    values = [r[key] for r in runs]
    return f"{min(values):.3g}–{max(values):.3g}"


def agreement(ours: dict[str, Any], storm_value: float) -> tuple[bool, float]:
    """Whether Storm's value lies in our enclosure ± Storm's precision, and its distance to it."""
    lo, hi = Fraction(ours["lo"]), Fraction(ours["hi"])
    v = Fraction(storm_value)
    distance = max(lo - v, v - hi, Fraction(0))
    tol = Fraction(STORM_PRECISION) * max(Fraction(1), abs(v))
    return distance <= tol, float(distance)


def summarise(name: str, ours: list[dict[str, Any]], storm: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in ours if "error" not in r]
    sk = [r for r in storm if "error" not in r]
    row: dict[str, Any] = {"model": name, "repeats": len(ours)}
    if not ok or not sk:
        row["error"] = "; ".join(r["error"] for r in ours + storm if "error" in r)
        return row
    first = ok[0]
    row.update(states=first["states"], choices=first["choices"], transitions=first["transitions"])
    row.update(
        ours_load=median(ok, "load_seconds"), storm_build=median(sk, "build_seconds"),
        ours_jstar=median(ok, "jstar_seconds"), storm_check=median(sk, "check_seconds"),
        ours_rss=median(ok, "peak_rss_mb"), storm_rss=median(sk, "peak_rss_mb"),
        ours_load_spread=spread(ok, "load_seconds"), storm_build_spread=spread(sk, "build_seconds"),
        ours_jstar_spread=spread(ok, "jstar_seconds"), storm_check_spread=spread(sk, "check_seconds"),
        width=max(r["width"] for r in ok), lo=first["lo_float"], hi=first["hi_float"],
        storm_value=sk[0]["value"],
    )
    row["load_ratio"] = row["ours_load"] / row["storm_build"]
    row["jstar_ratio"] = row["ours_jstar"] / row["storm_check"]
    verdicts = [agreement(o, s["value"]) for o in ok for s in sk]
    row["agree"] = all(a for a, _ in verdicts)
    row["distance"] = max(d for _, d in verdicts)
    row["same_size"] = all((r["states"], r["choices"], r["transitions"]) ==
                           (first["states"], first["choices"], first["transitions"]) for r in ok + sk)
    return row


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| model | states / choices / transitions | ours load | Storm build | ratio | ours J* | Storm check "
            "| ratio | J* enclosure [lo, hi] | width | Storm value | agree | peak RSS ours / Storm |")
    columns = head.count("|") - 1
    lines = [head, "|" + "---|" * columns]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | error: {r['error']} |" + " |" * (columns - 2))
            continue
        agree = "yes" if r["agree"] else "NO"
        if r["agree"] and r["distance"] > 0:
            agree += f" (outside by {r['distance']:.1e}, within Storm's precision)"
        lines.append(
            f"| {r['model']} | {r['states']:,} / {r['choices']:,} / {r['transitions']:,} "
            f"| {r['ours_load']:.3g} s | {r['storm_build']:.3g} s | {r['load_ratio']:.2f} "
            f"| {r['ours_jstar']:.3g} s | {r['storm_check']:.3g} s | {r['jstar_ratio']:.2f} "
            f"| [{r['lo']:.13g}, {r['hi']:.13g}] | {r['width']:.1e} | {r['storm_value']:.13g} | {agree} "
            f"| {r['ours_rss']:.0f} / {r['storm_rss']:.0f} MB |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    for module in ("numpy", "scipy", "stormpy"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    return info


# -- command line -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6", help="comma-separated sizes (states)")
    parser.add_argument("--families", default="grid,random", help="comma-separated: grid, random")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per model (fresh processes)")
    parser.add_argument("--horizon", type=int, default=50)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model cache and results.json")
    parser.add_argument("--quick", action="store_true", help="1e4 only")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "TRA"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.worker[0], Path(args.worker[1]), args.horizon)
    sizes = [1e4] if args.quick else [float(s) for s in args.sizes.split(",") if s]
    families = [f for f in args.families.split(",") if f]
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"machine: {info}", flush=True)
    rows = []
    for family in families:
        for size in sizes:
            tra = ensure_model(family, model_size(family, size), args.out)
            ours: list[dict[str, Any]] = []
            storm: list[dict[str, Any]] = []
            for i in range(args.repeat):
                ours.append(run_worker("ours", tra, args.horizon))
                storm.append(run_worker("storm", tra, args.horizon))
                print(f"{tra.stem} run {i + 1}/{args.repeat}: ours {_brief(ours[-1], 'load_seconds', 'jstar_seconds')}"
                      f"; storm {_brief(storm[-1], 'build_seconds', 'check_seconds')}", flush=True)
            rows.append(summarise(tra.stem, ours, storm))
            rows[-1]["runs"] = {"ours": ours, "storm": storm}
    command = "python bench/run.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    (args.out / "results.json").write_text(json.dumps({"command": command, "machine": info, "rows": rows}, indent=2))
    print()
    print(table(rows))
    return 0 if all(r.get("agree") for r in rows) else 1


def _brief(run: dict[str, Any], a: str, b: str) -> str:
    if "error" in run:
        return f"error: {run['error']}"
    return f"{run[a]:.3f} s + {run[b]:.3f} s, {run['peak_rss_mb']:.0f} MB"


if __name__ == "__main__":
    sys.exit(main())
