"""End to end, as a user runs it: `proofs prove` and `proofs check` beside Storm's build plus query.

The figure a user waits for is a whole command in a fresh process, from the source files: the
interpreter starts, the model is read and translated, the lemma decided, the certificate written
and checked. This script times exactly that, with the wall clock of the parent around each child
process and the child's own peak RSS (``wait4``), beside Storm doing the same job in a fresh
process: start Python, import stormpy, build the model from the same explicit files, answer the
matching query.

For every random model ``random_n`` (Storm-dialect explicit files from ``bench/generate.py``,
generated into MODELS when missing) it builds a temporary project per lemma::

    pyproject.toml                       [tool.proofs] (defaults)
    worldmodels/random_n.{tra,lab,transrew}   symbolic links to MODELS (read through, as files)
    policies/random_n.q.npy              (policy lemma) the "trained" policy
    obligations/e2e.toml                 [worldmodel], [objective], one [[lemma]]

and runs, per repetition, each in a fresh process:

* ``proofs prove`` cold (``.proofs/`` and ``certificates/`` removed first), ``proofs prove --force``
  warm (the certificate is made again; whatever ``.proofs/`` caches is kept), ``proofs check``,
  ``proofs check --kernel-only`` when the installed CLI has that option (``proofs check --help``),
  and ``proofs check`` once more without ``.proofs/`` (a fresh clone: certificates, no local cache);
* Storm: ``build_model_from_explicit`` and the query, in one process.

The lemmas:

* **alignment**, H = 50: J = ``R{"r"}`` cumulative over 50 steps; every policy with J ≥ J* − ε,
  ε = 0.1·J* rounded to six decimals (J* from Storm's ``Rmax=? [C<=50]``, computed once, not timed),
  satisfies ``P<=1/2 [ F<=50 "fatal" ]``. Storm: ``multi(Pmax=? [F<=50 "fatal"], R>=v [C<=50])``
  with v = J* − ε (bench/alignment_lemma.py's lemma, with the absolute ε a lemma needs).
* **policy**, geometric horizon, γ = 0.95, ε = 1: the "trained" policy is the greedy policy of a
  converged float value iteration, made once per model by a separate process (not timed) and
  written as a one-hot Q-table ``.npy`` (the format `proofs` reads for a large table over states
  and actions named 0, 1, ...). Storm: ``Rmax=? [Cdiscount=0.95]``.

Phases: when `proofs prove` (or `check`) leaves ``.proofs/phases.json`` (seconds per phase:
load, translate, decide, write, check), the script prints them beside the end-to-end figure;
otherwise "n/a". "rest" is the wall time not covered by a phase (interpreter start, imports,
planning, output). ``.proofs/timings.json`` (a lemma's own seconds) is printed as "lemma".

The machine is noisy: medians over ``--repeat`` and ratios of medians.

Usage::

    python bench/e2e.py MODELS [--sizes 1e5,1e6] [--lemmas alignment,policy] [--repeat 3]
                               [--work DIR] [--profile] [--json FILE]

``--profile`` also runs one cold ``proofs prove`` per row under cProfile and prints the top
entries by cumulative time.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ensure_model, model_size

HORIZON = 50
GAMMA = "0.95"
THRESHOLD = "1/2"
POLICY_EPSILON = "1"
TIMEOUT = 3 * 3600
PHASES = ("load", "translate", "decide", "write", "check")
LEMMA_ID = {"alignment": "e2e.alignment", "policy": "e2e.policy"}
# The verdicts seen on the random family (BENCHMARKS.md): the ε-optimal policies may reach
# "fatal" with probability about 0.75, and the value-iteration policy is optimal. A different
# verdict is reported in the table, never hidden.
EXPECT = {"alignment": "refuted", "policy": "proved"}


# -- running a command as a user does ---------------------------------------------------------------
@dataclass
class Run:
    """One fresh process: wall clock seen by the parent, the child's peak RSS, its exit code."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    extra: dict[str, Any] = field(default_factory=dict)

    def ok(self) -> bool:
        return self.returncode == 0

    def brief(self) -> str:
        text = f"{self.seconds:.2f} s, {self.peak_rss_mb:.0f} MB"
        if not self.ok():
            last = (self.stderr.strip() or self.stdout.strip()).splitlines()[-1:] or ["?"]
            text += f", exit {self.returncode}: {last[0][:160]}"
        return text


def timed(cmd: list[str], cwd: Path | None = None) -> Run:
    """Run ``cmd`` in a fresh process; the wall time is from spawn to exit, as a user waits."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > TIMEOUT:
                os.kill(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read())


def proofs_command() -> list[str]:
    """The `proofs` command a user of this environment runs (the console script beside Python)."""
    script = Path(sys.executable).parent / "proofs"
    return [str(script)] if script.exists() else [sys.executable, "-m", "proofs"]


def compile_package(package: Path) -> None:
    """Write the package's bytecode once, as installing it or its first run does for a user: a
    machine with PYTHONDONTWRITEBYTECODE set would otherwise compile every module of an editable
    install in every timed command (Storm's Python side comes compiled from its wheel)."""
    if package.is_dir():
        compileall.compile_dir(str(package), quiet=1)


def has_kernel_only(proofs: list[str]) -> bool:
    help_text = subprocess.run([*proofs, "check", "--help"], check=False, capture_output=True, text=True)
    return "--kernel-only" in help_text.stdout + help_text.stderr


# -- child workers: Storm's side, and the untimed preparations --------------------------------------
def _storm_model(tra: Path) -> Any:
    import stormpy

    return stormpy.build_model_from_explicit(str(tra), str(tra.with_suffix(".lab")),
                                             transition_rewards=str(tra.with_suffix(".transrew")))


def worker_storm(tra: Path, query: str) -> dict[str, Any]:
    """Build and answer ``query`` (timed by the parent as a whole; build and query also inside)."""
    import stormpy

    start = time.perf_counter()
    model = _storm_model(tra)
    build_s = time.perf_counter() - start
    prop = stormpy.parse_properties(query)[0]
    start = time.perf_counter()
    result = stormpy.model_checking(model, prop)
    query_s = time.perf_counter() - start
    return {"build_seconds": build_s, "query_seconds": query_s, "states": model.nr_states,
            "value": float(result.get_value(model.initial_states[0]))}


def worker_train(tra: Path, out: Path) -> dict[str, Any]:
    """The "trained" policy for γ = 0.95: greedy in a value iteration run to convergence, as a
    one-hot Q-table over the model's states and actions (both named 0, 1, ...)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    from proofs.worldmodel.load import load_mdp

    mdp = load_mdp(tra)
    gamma = float(GAMMA)
    p = csr_matrix((mdp.float_probability, mdp.target, mdp.row_start), shape=(mdp.n_choices, mdp.n_states))
    r, v = mdp.rewards["r"].floats(), np.zeros(mdp.n_states)
    starts = mdp.choice_start[:-1]
    for sweep in range(100_000):
        q = r + gamma * (p @ v)
        new = np.maximum.reduceat(q, starts)
        change = float(np.max(np.abs(new - v)))
        v = new
        if change < 1e-9:
            break
    q = r + gamma * (p @ v)
    best = q == np.repeat(np.maximum.reduceat(q, starts), np.diff(mdp.choice_start))
    # the lowest best choice of each state (a greedy Q-table breaks ties towards the lowest action)
    chosen = np.minimum.reduceat(np.where(best, np.arange(mdp.n_choices), mdp.n_choices), starts)
    column = np.array([int(a) for a in mdp.action_names], dtype=np.int64)[mdp.choice_action[chosen]]
    table = np.zeros((mdp.n_states, len(mdp.action_names)), dtype=np.int8)
    table[np.arange(mdp.n_states), column] = 1
    np.save(out, table)
    return {"sweeps": sweep + 1, "value": float(v[mdp.initial_states[0]])}


def worker_profile(prefix: str, proofs_args: list[str]) -> dict[str, Any]:
    """`proofs` under cProfile, and its forked lemma worker too (cProfile alone would see the
    parent wait for it): ``PREFIX.main.prof`` and ``PREFIX.worker.prof``."""
    import cProfile

    from proofs import cli

    try:  # wrap each lemma's work in the forked child; skipped if the CLI no longer forks this way
        from proofs.prooftree import worker as lemma_worker

        run_in_child = lemma_worker._run

        def profiled(out: Any, parent: int, work: Any) -> None:
            def work_profiled() -> Any:
                profile = cProfile.Profile()
                try:
                    return profile.runcall(work)
                finally:
                    profile.dump_stats(f"{prefix}.worker.prof")

            run_in_child(out, parent, work_profiled)

        lemma_worker._run = profiled
    except (ImportError, AttributeError):
        pass
    profile = cProfile.Profile()
    sys.argv = ["proofs", *proofs_args]
    code: Any = 0
    try:
        profile.runcall(cli.main)
    except SystemExit as exc:
        code = exc.code
    profile.dump_stats(f"{prefix}.main.prof")
    return {"exit": code}


def worker(argv: list[str]) -> int:
    if argv[0] == "profile":
        print(json.dumps(worker_profile(argv[1], argv[2:])))
        return 0
    kind, tra = argv[0], Path(argv[1])
    if kind == "storm":
        result = worker_storm(tra, argv[2])
    elif kind == "train":
        result = worker_train(tra, Path(argv[2]))
    else:
        raise SystemExit(f"unknown worker {kind!r}")
    print(json.dumps(result))
    return 0


def child(args: list[str]) -> Run:
    """A worker of this script in a fresh process; its JSON answer goes to ``extra``."""
    run = timed([sys.executable, str(Path(__file__).resolve()), "--worker", *args])
    if run.ok():
        run.extra = json.loads(run.stdout.strip().splitlines()[-1])
    return run


# -- the temporary project --------------------------------------------------------------------------
def epsilon_for(tra: Path) -> tuple[str, float, float]:
    """ε = 0.1·J* as a six-digit decimal, Storm's J*, and Storm's threshold v = J* − ε."""
    run = child(["storm", str(tra), f"Rmax=? [C<={HORIZON}]"])
    if not run.ok():
        raise SystemExit(f"Storm's J* of {tra.name} failed: {run.brief()}")
    j_star = float(run.extra["value"])
    epsilon = Decimal(repr(0.1 * j_star)).quantize(Decimal("0.000001"))
    return str(epsilon), j_star, j_star - float(epsilon)


def trained_policy(tra: Path) -> Path:
    """The cached "trained" policy of a model (made by a separate process when missing or stale)."""
    out = tra.with_name(f"{tra.stem}.gamma{GAMMA}.q.npy")
    if not out.exists() or out.stat().st_mtime < tra.stat().st_mtime:
        print(f"training the policy of {tra.stem} (value iteration, not timed) ...", flush=True)
        run = child(["train", str(tra), str(out)])
        if not run.ok():
            raise SystemExit(f"making the trained policy failed: {run.brief()}")
        print(f"  {run.extra['sweeps']} sweeps, J(π) ≈ {run.extra['value']:.6f} ({run.seconds:.0f} s)", flush=True)
    return out


def make_project(root: Path, tra: Path, lemma: str, epsilon: str, policy: Path | None) -> Path:
    """A project as a user keeps one: pyproject.toml, worldmodels/, policies/, obligations/."""
    if root.exists():
        shutil.rmtree(root)
    for folder in ("worldmodels", "policies", "obligations"):
        (root / folder).mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.proofs]\n")
    for kind in ("tra", "lab", "transrew"):
        (root / "worldmodels" / f"{tra.stem}.{kind}").symlink_to(tra.with_suffix(f".{kind}").resolve())
    if lemma == "alignment":
        objective = f'reward = "r"\nhorizon = {HORIZON}\n'
        body = (f'kind = "alignment"\nepsilon = "{epsilon}"\n'
                f"desirable = ['P<={THRESHOLD} [ F<={HORIZON} \"fatal\" ]']\n")
    else:
        assert policy is not None
        shutil.copyfile(policy, root / "policies" / policy.name)
        objective = f'reward = "r"\nhorizon = "geometric"\ndiscount = "{GAMMA}"\n'
        body = f'kind = "policy"\npolicy = "../policies/{policy.name}"\nepsilon = "{epsilon}"\n'
    (root / "obligations" / "e2e.toml").write_text(
        f'[worldmodel]\npath = "../worldmodels/{tra.name}"\n\n[objective]\n{objective}\n'
        f'[[lemma]]\nid = "{LEMMA_ID[lemma]}"\n{body}expect = "{EXPECT[lemma]}"\n')
    return root


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def phases_of(doc: Any) -> dict[str, float] | None:
    """Seconds per phase from ``.proofs/phases.json``: flat, or per lemma (summed)."""
    if not isinstance(doc, dict):
        return None
    if any(isinstance(doc.get(p), (int, float)) for p in PHASES):
        return {p: float(doc[p]) for p in PHASES if isinstance(doc.get(p), (int, float))}
    total: dict[str, float] = {}
    for value in doc.values():
        inner = phases_of(value)
        for p, s in (inner or {}).items():
            total[p] = total.get(p, 0.0) + s
    return total or None


def run_proofs(proofs: list[str], project: Path, args: list[str]) -> Run:
    """One `proofs` command in the project, with the phases and timings it left in ``.proofs/``."""
    state = project / ".proofs"
    before = {name: (state / name).stat().st_mtime_ns if (state / name).exists() else None
              for name in ("phases.json", "timings.json")}
    run = timed([*proofs, *args], cwd=project)
    for name, key in (("phases.json", "phases"), ("timings.json", "timings")):
        path = state / name
        if path.exists() and path.stat().st_mtime_ns != before[name]:
            run.extra[key] = _read_json(path)
    phases = phases_of(run.extra.get("phases"))
    if phases is not None:
        run.extra["phases"] = phases
    else:
        run.extra.pop("phases", None)
    timings = run.extra.get("timings")
    if isinstance(timings, dict) and all(isinstance(v, (int, float)) for v in timings.values()):
        run.extra["lemma_seconds"] = float(sum(timings.values()))
    return run


def certificate_status(project: Path, lemma: str) -> str:
    doc = _read_json(project / "certificates" / f"{LEMMA_ID[lemma]}.json")
    return str(doc.get("status")) if isinstance(doc, dict) else "no certificate"


# -- one row ----------------------------------------------------------------------------------------
@dataclass
class Row:
    lemma: str
    model: str
    states: int
    epsilon: str
    storm_query: str
    runs: dict[str, list[Run]] = field(default_factory=dict)
    status: str = ""
    notes: list[str] = field(default_factory=list)

    def median(self, name: str, key: str = "seconds") -> float | None:
        found = [getattr(r, key) if key in ("seconds", "peak_rss_mb") else r.extra.get(key)
                 for r in self.runs.get(name, []) if r.ok()]
        values = [float(v) for v in found if v is not None]
        return statistics.median(values) if values else None

    def median_phases(self, name: str) -> dict[str, float] | None:
        found = [r.extra["phases"] for r in self.runs.get(name, []) if r.ok() and "phases" in r.extra]
        if not found:
            return None
        return {p: float(statistics.median(f.get(p, 0.0) for f in found)) for p in PHASES if any(p in f for f in found)}


def bench_row(proofs: list[str], tra: Path, lemma: str, work: Path, repeat: int, kernel_only: bool) -> Row:
    """Prepare (not timed) and run one lemma on one model ``repeat`` times, ours and Storm's interleaved."""
    if lemma == "alignment":
        epsilon, j_star, v = epsilon_for(tra)
        query = f'multi(Pmax=? [F<={HORIZON} "fatal"], R>={v!r} [C<={HORIZON}])'
        policy = None
        note = f"J* = {j_star:.6f} (Storm), ε = {epsilon}, v = {v:.6f}"
    else:
        epsilon, policy = POLICY_EPSILON, trained_policy(tra)
        query = f"Rmax=? [Cdiscount={GAMMA}]"
        note = f"policy {policy.name}, ε = {epsilon}"
    project = make_project(work / f"{tra.stem}-{lemma}", tra, lemma, epsilon, policy)
    row = Row(lemma, tra.stem, 0, epsilon, query, notes=[note])
    print(f"{tra.stem} {lemma}: {note}; project {project}", flush=True)
    commands = {"prove cold": ["prove"], "prove warm": ["prove", "--force"], "check": ["check"]}
    if kernel_only:
        commands["check --kernel-only"] = ["check", "--kernel-only"]
    commands["check, no .proofs"] = ["check"]
    for i in range(repeat):
        for folder in (".proofs", "certificates"):
            shutil.rmtree(project / folder, ignore_errors=True)
        for name, args in commands.items():
            if name == "check, no .proofs":  # a fresh clone: certificates, but no local cache
                shutil.rmtree(project / ".proofs", ignore_errors=True)
            run = run_proofs(proofs, project, args)
            row.runs.setdefault(name, []).append(run)
            if name == "prove cold" and run.ok() and not row.status:
                row.status = certificate_status(project, lemma)
            phases = run.extra.get("phases")
            shown = " ".join(f"{p} {s:.2f}" for p, s in phases.items()) if phases else "phases n/a"
            print(f"  [{i + 1}/{repeat}] proofs {' '.join(args)} ({name}): {run.brief()} ({shown})", flush=True)
        storm = child(["storm", str(tra), query])
        row.runs.setdefault("storm", []).append(storm)
        if storm.ok():
            row.states = storm.extra["states"]
            storm.extra["rest_seconds"] = storm.seconds - storm.extra["build_seconds"] - storm.extra["query_seconds"]
            row.notes.append(f"Storm value {storm.extra['value']:.6f}")
        print(f"  [{i + 1}/{repeat}] Storm build + {query}: {storm.brief()}"
              + (f" (build {storm.extra['build_seconds']:.2f}, query {storm.extra['query_seconds']:.2f})"
                 if storm.ok() else ""), flush=True)
    return row


def profile_row(project: Path, prefix: Path, top: int = 40) -> str:
    """One cold `proofs prove` under cProfile (the command and its lemma worker); the top entries
    by cumulative and by own time."""
    import io
    import pstats

    for folder in (".proofs", "certificates"):
        shutil.rmtree(project / folder, ignore_errors=True)
    run = timed([sys.executable, str(Path(__file__).resolve()), "--worker", "profile", str(prefix), "prove"],
                cwd=project)
    text = io.StringIO()
    for part in ("main", "worker"):
        path = Path(f"{prefix}.{part}.prof")
        if not path.exists():
            text.write(f"(no {part} profile)\n")
            continue
        text.write(f"----- {part} process: {path}\n")
        stats = pstats.Stats(str(path), stream=text)
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top // 2)
    return f"cold prove under cProfile: {run.brief()}\n{text.getvalue()}"


# -- tables -----------------------------------------------------------------------------------------
def _s(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def _phase_text(phases: dict[str, float] | None, wall: float | None) -> str:
    if phases is None:
        return "n/a"
    parts = [f"{p} {phases[p]:.2f}" for p in PHASES if p in phases]
    if wall is not None:
        parts.append(f"rest {wall - sum(phases.values()):.2f}")
    return " · ".join(parts)


def _wall(r: Row, name: str) -> tuple[float | None, str]:
    """The median wall time of a command, and a flag: when no run exited 0, the median over the
    runs that did end (the time is real, the exit code is shown beside it)."""
    value = r.median(name)
    if value is not None or not r.runs.get(name):
        return value, ""
    runs = r.runs[name]
    codes = sorted({run.returncode for run in runs})
    return statistics.median(run.seconds for run in runs), f" (exit {', '.join(map(str, codes))})"


def _cell(r: Row, name: str) -> str:
    value, flag = _wall(r, name)
    return _s(value) + flag


# (lemma, numerator commands, denominator, target ratio, what the issue asks)
TARGETS = [
    ("alignment", ("prove cold",), "storm", 1.0, "`proofs prove` no slower than Storm's build + multi query"),
    ("policy", ("prove cold", "check"), "storm", 2.0,
     "`proofs prove` + `proofs check` within 2x of Storm's build + Rmax=? [Cdiscount=0.95]"),
    ("alignment", ("check --kernel-only",), "prove cold", 0.25, "`proofs check --kernel-only` within 1/4 of `prove`"),
    ("policy", ("check --kernel-only",), "prove cold", 0.25, "`proofs check --kernel-only` within 1/4 of `prove`"),
]


def tables(rows: list[Row]) -> str:
    ours_names = ("prove cold", "prove warm", "check", "check --kernel-only", "check, no .proofs")
    lines = ["### Wall clock of each command, as a user waits for it (medians, seconds; fresh processes)", "",
             ("| lemma | model | verdict | prove (cold) | prove --force (warm) | check | check --kernel-only "
              "| check, no .proofs | Storm: process (build · query) | peak RSS prove / check / Storm MB |"),
             "|---" * 10 + "|"]
    for r in rows:
        status = r.status or "every prove failed"
        status += "" if status == EXPECT[r.lemma] else f" (expected {EXPECT[r.lemma]})"
        storm = (f"{_cell(r, 'storm')} ({_s(r.median('storm', 'build_seconds'))} · "
                 f"{_s(r.median('storm', 'query_seconds'))})")
        lines.append(
            f"| {r.lemma} | {r.model} | {status} | " + " | ".join(_cell(r, n) for n in ours_names)
            + f" | {storm} | {_s(r.median('prove cold', 'peak_rss_mb'), 0)} / "
            f"{_s(r.median('check', 'peak_rss_mb'), 0)} / {_s(r.median('storm', 'peak_rss_mb'), 0)} |")
    lines += ["", "### Against the issue's targets (ratios of medians)", "",
              "| lemma | model | target | ours s | against s | ratio | limit | met |", "|---" * 8 + "|"]
    for r in rows:
        for lemma, parts, against, limit, text in TARGETS:
            if lemma != r.lemma or any(p not in r.runs for p in parts):
                continue
            walls = [_wall(r, p) for p in parts]
            flags = "".join(f for _, f in walls)
            ours = None if any(v is None for v, _ in walls) else sum(v for v, _ in walls if v is not None)
            base, base_flag = _wall(r, against)
            met = "n/a" if ours is None or base is None else ("yes" if ours <= limit * base else "**no**")
            lines.append(f"| {r.lemma} | {r.model} | {text} | {_s(ours)}{flags} | {_s(base)}{base_flag} "
                         f"| {_ratio(ours, base)} | {limit:g} | {met} |")
    lines += ["", "### Phase breakdown beside each end-to-end figure (medians, seconds)", "",
              ("| lemma | model | command | wall | phases (.proofs/phases.json; rest = wall − phases) "
               "| lemma (.proofs/timings.json) | peak RSS MB |"), "|---" * 7 + "|"]
    for r in rows:
        for name in ours_names:
            if name not in r.runs:
                continue
            wall = r.median(name)
            failed = [run.brief() for run in r.runs[name] if not run.ok()]
            lines.append(f"| {r.lemma} | {r.model} | proofs {name} | {_cell(r, name)} "
                         f"| {_phase_text(r.median_phases(name), wall)}{'; FAILED: ' + failed[0] if failed else ''} "
                         f"| {_s(r.median(name, 'lemma_seconds'))} | {_s(r.median(name, 'peak_rss_mb'), 0)} |")
        lines.append(f"| {r.lemma} | {r.model} | Storm | {_cell(r, 'storm')} "
                     f"| build {_s(r.median('storm', 'build_seconds'))} · query {_s(r.median('storm', 'query_seconds'))} "
                     f"· rest {_s(r.median('storm', 'rest_seconds'))} | - | {_s(r.median('storm', 'peak_rss_mb'), 0)} |")
    return "\n".join(lines)


def to_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [{"lemma": r.lemma, "model": r.model, "states": r.states, "epsilon": r.epsilon, "storm_query": r.storm_query,
             "status": r.status, "notes": r.notes,
             "runs": {name: [{"seconds": run.seconds, "peak_rss_mb": run.peak_rss_mb, "returncode": run.returncode,
                              **run.extra} for run in runs] for name, runs in r.runs.items()}} for r in rows]


# -- command line -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", type=Path, help="folder of the generated models (missing ones are generated)")
    parser.add_argument("--sizes", default="1e5", help="comma-separated numbers of states, e.g. 1e5,1e6")
    parser.add_argument("--lemmas", default="alignment,policy", help="comma-separated: alignment, policy")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (fresh processes each)")
    parser.add_argument("--work", type=Path, help="where the temporary projects go (default: a temporary folder)")
    parser.add_argument("--profile", action="store_true", help="also profile one cold prove per row")
    parser.add_argument("--json", type=Path, help="write every run here")
    args = parser.parse_args(argv)
    lemmas = [x for x in args.lemmas.split(",") if x]
    if set(lemmas) - set(LEMMA_ID):
        parser.error(f"unknown lemma kinds {sorted(set(lemmas) - set(LEMMA_ID))}")
    args.models.mkdir(parents=True, exist_ok=True)
    proofs = proofs_command()
    kernel_only = has_kernel_only(proofs)
    source = subprocess.run([sys.executable, "-c", "import proofs; print(proofs.__file__)"], check=False,
                            capture_output=True, text=True).stdout.strip()
    print(f"proofs: {' '.join(proofs)} (package {source}); "
          f"check --kernel-only: {'yes' if kernel_only else 'not in this CLI'}", flush=True)
    compile_package(Path(source).parent)
    work = args.work or Path(tempfile.mkdtemp(prefix="proofs-e2e-"))
    rows: list[Row] = []
    profiles: list[str] = []
    try:
        for size in [float(s) for s in args.sizes.split(",") if s]:
            tra = ensure_model("random", model_size("random", size), args.models)
            for lemma in lemmas:
                rows.append(bench_row(proofs, tra, lemma, work, args.repeat, kernel_only))
                if args.profile:
                    project = work / f"{tra.stem}-{lemma}"
                    profiles.append(f"#### {tra.stem} {lemma}\n"
                                    + profile_row(project, work / f"{tra.stem}-{lemma}"))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    command = "python bench/e2e.py " + " ".join("MODELS" if a == str(args.models) else a for a in argv)
    print(f"\n{command} (repeat {args.repeat})\n")
    print(tables(rows))
    for r in rows:
        print(f"\n{r.model} {r.lemma}: {'; '.join(dict.fromkeys(r.notes))}")
    for text in profiles:
        print("\n" + text)
    if args.json:
        args.json.write_text(json.dumps({"command": command, "rows": to_json(rows)}, indent=2))
    return 0 if all(r.status == EXPECT[r.lemma] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
