"""Incremental proving on the repository's examples: first run, second run, kernel check.

Copies ``worldmodels/``, ``policies/`` and ``obligations/`` into a temporary project and times, as
fresh ``proofs`` processes, medians of ``--repeat`` runs each:

* ``prove --force``: every lemma discharged by its engine and checked by the kernel;
* ``prove`` right after: every lemma re-used by its stamp (inputs and certificate unchanged since
  the kernel accepted them);
* ``prove`` with the stamps removed: every lemma re-used after a full kernel check (a fresh clone);
* ``check``: the trusted kernel alone on every certificate.

Usage::

    python bench/prove_reuse.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "proofs", *args], cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for folder in ("worldmodels", "policies", "obligations"):
            shutil.copytree(ROOT / folder, project / folder)
        (project / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\n'
                                                'certificates = "certificates"\n')
        first, second, unstamped, check = [], [], [], []
        for _ in range(args.repeat):
            first.append(timed(["prove", "--force"], project))
            second.append(timed(["prove"], project))
            (project / ".proofs" / "stamps.json").unlink()
            unstamped.append(timed(["prove"], project))
            check.append(timed(["check"], project))
        lemmas = sum(1 for f in (project / "certificates").glob("*.json")
                     if f.name != "timings.json" and not f.name.startswith("."))
    med = {name: statistics.median(runs) for name, runs in
           (("first", first), ("second", second), ("unstamped", unstamped), ("check", check))}
    print("| lemmas | prove --force s | prove (stamps) s | speed-up | prove (no stamps, kernel re-check) s "
          "| speed-up | check s | check / prove --force |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {lemmas} | {med['first']:.2f} | {med['second']:.2f} | {med['first'] / med['second']:.1f}x "
          f"| {med['unstamped']:.2f} | {med['first'] / med['unstamped']:.1f}x | {med['check']:.2f} "
          f"| {med['check'] / med['first']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
