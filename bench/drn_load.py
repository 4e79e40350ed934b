"""Loading big DRN files: `proofs` (`load_mdp`) against Storm (`stormpy.build_model_from_drn`).

Two steps:

``python bench/drn_load.py make random_100000.tra -o DIR``
    reads an explicit model written by ``bench/generate.py`` and writes ``STEM.drn`` (point
    probabilities) and ``STEM-interval.drn`` (every p widened to [0.9p, min(1, 1.1p)], exact)
    with `proofs.interop.storm.to_drn`.

``python bench/drn_load.py eval DIR/random_100000-interval.drn [--runs 3] [--steps 20]``
    the robust query ``Pmax=? [ F<=20 "goal" ]`` as a user runs it: ``proofs eval FILE --property
    ...`` in a fresh process (reading, validating, evaluating: a sound enclosure), against Storm's
    interval build plus its ROBUST check, in a fresh process, alternating; medians and ratios.

``python bench/drn_load.py time DIR/random_100000.drn [--runs 3]``
    loads the file in a fresh process per run, with ``/usr/bin/time -v`` for the peak RSS: ours
    (``load_mdp(PATH)``) and Storm's (``build_model_from_drn`` for a point model,
    ``build_model_from_drn[stormpy.Interval]`` for an interval one), alternating, then prints the
    medians and the ratios ours / Storm. The exact commands are printed too.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path


OURS = "from proofs.worldmodel.load import load_mdp; load_mdp({path!r})"
STORM_POINT = "import stormpy; stormpy.build_model_from_drn({path!r})"
STORM_INTERVAL = "import stormpy; stormpy.build_model_from_drn[stormpy.Interval]({path!r})"
_ELAPSED = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)")
_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def make(tra: Path, out: Path) -> None:
    """Write the point and the interval DRN files of an explicit model."""
    from proofs.interop.storm import to_drn
    from proofs.worldmodel.load import load_mdp

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.mdps import widened

    mdp = load_mdp(tra)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{tra.stem}.drn").write_text(to_drn(mdp), encoding="utf-8")
    credal = widened(mdp)
    (out / f"{tra.stem}-interval.drn").write_text(to_drn(credal), encoding="utf-8")


def measure(code: str) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of ``python -c code`` in a fresh process."""
    command = ["/usr/bin/time", "-v", sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    elapsed, rss = _ELAPSED.search(done.stderr), _RSS.search(done.stderr)
    assert elapsed is not None and rss is not None, done.stderr[-2000:]
    hours, minutes, seconds = elapsed.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), int(rss.group(1)) / 1024


def time_file(path: Path, runs: int) -> None:
    interval = b": [" in path.read_bytes()[:1 << 20].partition(b"@model")[2]
    ours = OURS.format(path=str(path))
    storm = (STORM_INTERVAL if interval else STORM_POINT).format(path=str(path))
    print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB, {'interval' if interval else 'point'})")
    for name, code in (("ours", ours), ("storm", storm)):
        print(f"  {name}: {sys.executable} -c \"{code}\"   (under /usr/bin/time -v)")
    results: dict[str, list[tuple[float, float]]] = {"ours": [], "storm": []}
    for run in range(runs):
        for name, code in (("ours", ours), ("storm", storm)):
            seconds, mb = measure(code)
            results[name].append((seconds, mb))
            print(f"  run {run + 1} {name}: {seconds:.2f} s, {mb:.0f} MB", flush=True)
    median = {name: (statistics.median(t for t, _ in r), statistics.median(m for _, m in r))
              for name, r in results.items()}
    (t_ours, m_ours), (t_storm, m_storm) = median["ours"], median["storm"]
    print(f"  median of {runs}: ours {t_ours:.2f} s, {m_ours:.0f} MB; storm {t_storm:.2f} s, {m_storm:.0f} MB; "
          f"ratio time {t_ours / t_storm:.2f}x, memory {m_ours / m_storm:.2f}x")


STORM_ROBUST = ("import stormpy; m = stormpy.build_model_from_drn[stormpy.Interval]({path!r}); "
                "p = stormpy.parse_properties({query!r})[0]; "
                "stormpy.model_checking(m, p, uncertainty_resolution_mode=stormpy.UncertaintyResolutionMode.ROBUST)")
OURS_EVAL = ("import sys; from proofs.cli import main; sys.argv = ['proofs', 'eval', {path!r}, '--property', {query!r}]; "
             "main()")


def eval_file(path: Path, runs: int, steps: int) -> None:
    """``proofs eval`` of one robust query against Storm's interval build and robust check."""
    query = f'Pmax=? [ F<={steps} "goal" ]'
    codes = {"ours": OURS_EVAL.format(path=str(path), query=query),
             "storm": STORM_ROBUST.format(path=str(path), query=f'Pmax=? [F<={steps} "goal"]')}
    print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB), query {query}")
    for name, code in codes.items():
        print(f"  {name}: {sys.executable} -c \"{code}\"")
    results: dict[str, list[tuple[float, float]]] = {"ours": [], "storm": []}
    for run in range(runs):
        for name, code in codes.items():
            seconds, mb = measure(code)
            results[name].append((seconds, mb))
            print(f"  run {run + 1} {name}: {seconds:.2f} s, {mb:.0f} MB", flush=True)
    (t_o, m_o), (t_s, m_s) = ((statistics.median(t for t, _ in r), statistics.median(m for _, m in r))
                              for r in results.values())
    print(f"  median of {runs}: ours {t_o:.2f} s, {m_o:.0f} MB; storm {t_s:.2f} s, {m_s:.0f} MB; "
          f"ratio time {t_o / t_s:.2f}x, memory {m_o / m_s:.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("make", help="write STEM.drn and STEM-interval.drn from STEM.tra")
    made.add_argument("tra", type=Path)
    made.add_argument("-o", "--output", type=Path, default=Path("."))
    evaluated = commands.add_parser("eval", help="time a robust query end to end, ours against Storm")
    evaluated.add_argument("paths", type=Path, nargs="+")
    evaluated.add_argument("--runs", type=int, default=3)
    evaluated.add_argument("--steps", type=int, default=20)
    timed = commands.add_parser("time", help="time loading DRN files, ours against Storm")
    timed.add_argument("paths", type=Path, nargs="+")
    timed.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.command == "make":
        make(args.tra, args.output)
    elif args.command == "eval":
        for path in args.paths:
            eval_file(path, args.runs, args.steps)
    else:
        for path in args.paths:
            time_file(path, args.runs)


if __name__ == "__main__":
    main()
