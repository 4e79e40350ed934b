"""Storm baseline for a generated model: build with Storm's explicit parser and time three queries.

Everything runs in this process (no subprocess): wall times with `time.perf_counter`, peak RSS
with `resource` (the process's high-water mark so far, stormpy included, about 75 MB on its own).
The queries, with H the horizon (STORM-NOTES §6):

* ``rmax``:  ``Rmax=? [C<=H]``
* ``pmax``:  ``Pmax=? [F "fatal"]``
* ``multi``: ``multi(Pmax=? [F<=H "fatal"], R>=v [C<=H])`` with v = 0.9 · rmax (rmax is run first
  if it was not asked for; its time is then not reported).

Usage::

    python bench/storm_baseline.py DIR/grid_317.tra [--horizon 50] [--queries rmax,pmax,multi]

(``DIR`` alone works when it holds one ``.tra`` file.) Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["QUERIES", "find_model", "main", "run_baseline"]

QUERIES = ("rmax", "pmax", "multi")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def find_model(path: Path) -> dict[str, Path]:
    """The explicit files of a model: ``tra`` and ``lab``, and ``transrew``/``srew`` if present.

    ``path`` is the ``.tra`` file, its stem, or a directory holding exactly one ``.tra``.
    """
    if path.is_dir():
        found = sorted(path.glob("*.tra"))
        if len(found) != 1:
            raise ValueError(f"{path} holds {len(found)} .tra files; name the one to use")
        path = found[0]
    stem = path.with_suffix("") if path.suffix == ".tra" else path
    files = {kind: stem.with_name(f"{stem.name}.{kind}") for kind in ("tra", "lab", "transrew", "srew")}
    for kind in ("tra", "lab"):
        if not files[kind].exists():
            raise FileNotFoundError(files[kind])
    return {kind: p for kind, p in files.items() if p.exists()}


def _timed_check(stormpy: Any, model: Any, text: str, **options: Any) -> dict[str, Any]:
    prop = stormpy.parse_properties(text)[0]
    start = time.perf_counter()
    result = stormpy.model_checking(model, prop, **options)
    seconds = time.perf_counter() - start
    return {"property": text, "seconds": seconds, "value": float(result.get_value(model.initial_states[0])),
            "peak_rss_mb": _peak_rss_mb()}


def _multi_environment(stormpy: Any, model: Any, precision: float | None) -> dict[str, Any]:
    if precision is None:
        return {}
    env = stormpy.environments.default(model)
    env.modelchecker().multi().precision = stormpy.Rational(repr(precision))
    return {"environment": env}


def run_baseline(
    path: Path, horizon: int = 50, queries: Sequence[str] = QUERIES, multi_precision: float | None = None,
) -> dict[str, Any]:
    """Build the model with Storm's explicit parser and run the baseline queries.

    Returns
    -------
    dict
        ``model``, ``states``, ``choices``, ``transitions``, ``build_seconds``, ``build_peak_rss_mb``
        and ``queries``: per query name its ``property``, ``seconds``, ``value`` (at the initial
        state) and ``peak_rss_mb``.
    """
    import stormpy

    unknown = set(queries) - set(QUERIES)
    if unknown:
        raise ValueError(f"unknown queries {sorted(unknown)}; choose from {', '.join(QUERIES)}")
    files = find_model(path)
    start = time.perf_counter()
    model = stormpy.build_model_from_explicit(
        str(files["tra"]), str(files["lab"]), state_rewards=_optional(files, "srew"),
        transition_rewards=_optional(files, "transrew"),
    )
    report: dict[str, Any] = {
        "model": files["tra"].stem, "states": model.nr_states, "choices": model.nr_choices,
        "transitions": model.nr_transitions, "build_seconds": time.perf_counter() - start,
        "build_peak_rss_mb": _peak_rss_mb(), "horizon": horizon, "queries": {},
    }
    results = report["queries"]
    if "rmax" in queries or "multi" in queries:
        results["rmax"] = _timed_check(stormpy, model, f"Rmax=? [C<={horizon}]")
    if "pmax" in queries:
        results["pmax"] = _timed_check(stormpy, model, 'Pmax=? [F "fatal"]')
    if "multi" in queries:
        v = 0.9 * results["rmax"]["value"]
        text = f'multi(Pmax=? [F<={horizon} "fatal"], R>={v!r} [C<={horizon}])'
        results["multi"] = _timed_check(stormpy, model, text, **_multi_environment(stormpy, model, multi_precision))
        results["multi"]["threshold"] = v
    if "rmax" not in queries:
        del results["rmax"]
    return report


def _optional(files: dict[str, Path], kind: str) -> str | None:
    return str(files[kind]) if kind in files else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="the .tra file, its stem, or a directory with one .tra")
    parser.add_argument("--horizon", type=int, default=50)
    parser.add_argument("--queries", default=",".join(QUERIES), help="comma-separated subset of rmax,pmax,multi")
    parser.add_argument("--multi-precision", type=float, default=None, help="Storm's default is 1e-4")
    args = parser.parse_args(argv)
    queries = [q for q in args.queries.split(",") if q]
    report = run_baseline(args.model, args.horizon, queries, args.multi_precision)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
