"""`proofs prove`: discharge lemmas in dependency order, write certificates, re-use unchanged ones.

UNTRUSTED orchestration. A lemma is re-used when its certificate still passes the kernel (same
statement, same input hashes, witness still valid) and settles it (``proved`` or ``refuted``);
otherwise it is discharged in a worker process (`proofs.prooftree.worker`: ``--jobs`` at a
time, ``--timeout`` each: a timeout is `unknown`, never `proved`), the certificate is written
atomically, and the kernel checks it before its verdict is reported.

An ``unknown`` answer (a limit reached, an engine that gave up, a premise left unknown) is a
statement about this run, not about the lemma: its certificate is never re-used (the next run
tries again), and it never replaces a certificate that still checks and settles the lemma. That
certificate stays on disk, and the run reports the lemma as unknown, saying it was kept.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofs.core.certificate import (
    FORMAT,
    read_certificate,
    relative,
)
from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.rational import format_rational
from proofs.core.schema import FieldError
from proofs.core.statement import StatementError
from proofs.prooftree.plan import Plan, Task
from proofs.prooftree.stamps import Stamps
from proofs.prooftree.state import remove_leftovers, state_file, write_state
from proofs.prooftree.verify import Checker, certificate_path, premise_hashes
from proofs.prooftree.worker import Worker, poll, start_worker, stopping_workers
from proofs.spec.obligation import AlignmentLemma, PolicyLemma, statement_of

__all__ = ["Outcome", "prove"]


@dataclass(frozen=True)
class Outcome:
    id: str
    kind: str
    status: str
    expected: str
    values: dict[str, Any]
    certificate: str | None
    seconds: float
    action: str          # "re-used", "proved", "checked-failed", "timeout", ...
    reason: str


def _inputs(plan: Plan, task: Task) -> tuple[dict[str, Any], bytes | None]:
    """The certificate's inputs, and the bytes of a policy table too large to write inline (its
    `proofs.policy.canonical.canonical_table`: JSON inside the certificate when small, else
    binary beside it as ``LEMMA.table``; its SHA-256 is the certificate's ``table_sha256``)."""
    from proofs.api.prove import policy_input

    f = task.obligation
    inputs: dict[str, Any] = {}
    table: bytes | None = None
    if f.worldmodel_path is not None and task.lemma.kind != "certificate":
        inputs["worldmodel"] = {"path": relative(f.worldmodel_path, plan.root),
                                "sha256": task.translation.source_sha256, "canonical": task.translation.sha256}
    if task.lemma.kind == "certificate":
        inputs["premises"] = premise_hashes(plan.root, plan.settings.certificates, task.lemma.premises)  # type: ignore[union-attr]
    if task.policy is not None:
        assert f.objective is not None
        inputs["policy"], table = policy_input(task.mdp, task.policy, f.objective.horizon, certificate_path(
            plan.root, plan.settings.certificates, task.lemma.id))
    return inputs, table


def _discharge(task: Task, engine: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the lemma's engine (in a child process). Returns (certificate fields, witness arrays)."""
    from proofs.api.prove import discharge

    f, lemma = task.obligation, task.lemma
    assert f.objective is not None and isinstance(lemma, (AlignmentLemma, PolicyLemma))
    if isinstance(lemma, PolicyLemma):
        return discharge("policy", task.mdp, f.objective, lemma.epsilon, policy=task.policy)
    return discharge("alignment", task.mdp, f.objective, lemma.epsilon, desirable=lemma.desirable, engine=engine,
                     margin=lemma.margin)


def _document(plan: Plan, task: Task, fields: dict[str, Any]) -> tuple[dict[str, Any], bytes | None]:
    lemma, f = task.lemma, task.obligation
    inputs, table = _inputs(plan, task)
    doc = {"format": FORMAT,
           "lemma": {"id": lemma.id, "kind": lemma.kind, "obligation": relative(f.path, plan.root)},
           "statement": statement_of(lemma, f.objective), "inputs": inputs}   # the objective and ε: in the statement only
    doc.update(fields)
    return doc, table


def _write(plan: Plan, task: Task, doc: dict[str, Any], arrays: dict[str, Any], table: bytes | None) -> Path:
    """Write the certificate through its type (`proofs.api.prove.write_certificate`)."""
    from proofs.api.prove import write_certificate

    path = certificate_path(plan.root, plan.settings.certificates, task.lemma.id)
    write_certificate(path, doc, arrays, table)
    return path


def _compose(plan: Plan, task: Task, done: dict[str, Outcome]) -> dict[str, Any]:
    """Compose the premises; also evaluate Φ directly under π₀ as a cross-check (SPEC §5)."""
    from proofs.api.prove import composition_fields

    premises = [done[p] for p in task.lemma.premises]  # type: ignore[union-attr]
    fields = composition_fields([(p.id, p.status) for p in premises], _direct(plan, task))
    kinds = {plan.tasks[p].lemma.kind: plan.tasks[p] for p in task.lemma.premises}  # type: ignore[union-attr]
    alignment, policy = kinds.get("alignment"), kinds.get("policy")
    if alignment is not None and policy is not None and policy.policy is not None and policy.mdp is not None \
            and policy.obligation.objective is not None:
        from proofs.api.prove import with_margin

        with_margin(fields, policy.mdp, policy.obligation.objective, policy.policy,
                    tuple(alignment.lemma.desirable))  # type: ignore[union-attr]
    return fields


def _direct(plan: Plan, task: Task) -> list[dict[str, Any]]:
    """Each constraint of the alignment premise's Φ evaluated under the policy premise's π₀."""
    from proofs.semantics.evaluate import evaluate_constraint

    kinds = {plan.tasks[p].lemma.kind: plan.tasks[p] for p in task.lemma.premises}  # type: ignore[union-attr]
    alignment, policy = kinds.get("alignment"), kinds.get("policy")
    if alignment is None or policy is None or policy.policy is None or policy.obligation.objective is None:
        return []
    rows = []
    objective, mdp = policy.obligation.objective, policy.mdp
    long = objective.horizon is not None and objective.horizon > 4096 and not mdp.is_credal
    for c in alignment.lemma.desirable:  # type: ignore[union-attr]
        if long:   # the kernel's own evaluation of the table it reads, with slopes, a quarter wider each side
            from proofs.engines.claims import round_outward
            from proofs.kernel.direct import evaluate_constraint as direct
            from proofs.policy.canonical import reachable_table

            found = direct(mdp, objective, reachable_table(mdp, policy.policy, objective.horizon), c)
            pad = found.width / 4   # the kernel accepts a reported value up to twice as wide as its own
            value = Enclosure(round_outward(found.lo - pad, up=False), round_outward(found.hi + pad, up=True))
        else:
            value = evaluate_constraint(mdp, objective, policy.policy, c)
        rows.append({"constraint": str(c), "threshold": format_rational(c.threshold), "value": value.to_json(),
                     "holds": c.comparison.decide(value.lo, value.hi, c.threshold)})
    return rows


def prove(plan: Plan, *, force: bool = False, jobs: int = 1, timeout: float | None = None,
          progress: Callable[[str, str], None] | None = None, engine: str | None = None) -> list[Outcome]:
    """Discharge every lemma of the plan in dependency order; return outcomes in that order.

    Independent lemmas run in parallel worker processes, at most `jobs` at a time; none outlives
    the call (`proofs.prooftree.worker.stopping_workers`). The engine is ``engine`` (the command
    line's), else the lemma's ``engine`` key, else the project default (`proofs.engines.select`).
    The engine is not an input: a certificate that still checks is re-used whichever engine made it.
    """
    translations = {(t.obligation.worldmodel_path, t.obligation.worldmodel_constants): t.translation
                    for t in plan.tasks.values() if t.translation is not None}
    checker = Checker(plan.root, plan.settings.certificates, allow_code=plan.allow_code,
                      translations=translations)
    for translation in translations.values():   # the models this run translated: no second decoding
        checker.kernel.loaded.setdefault(translation.sha256, translation.mdp)
    remove_leftovers(plan.root / plan.settings.certificates)
    stamps = Stamps(plan)
    done: dict[str, Outcome] = {}
    pending = list(plan.order)
    running: dict[str, Worker] = {}

    def report(lemma_id: str) -> None:
        if progress:
            progress(lemma_id, done[lemma_id].action)

    with stopping_workers(running):
        while pending or running:
            for lemma_id in [i for i in pending if all(p in done for p in plan.premises[i])]:
                task = plan.tasks[lemma_id]
                reused = _try_reuse(plan, checker, lemma_id, force, stamps)
                if reused is not None or task.lemma.kind == "certificate":
                    pending.remove(lemma_id)
                    done[lemma_id] = reused or _finish(plan, checker, task, *_document(
                        plan, task, _compose(plan, task, done)), {}, time.perf_counter(), "composed", stamps)
                    report(lemma_id)
                elif len(running) < max(jobs, 1):
                    pending.remove(lemma_id)
                    chosen = engine or getattr(task.lemma, "engine", None) or plan.settings.engine
                    running[lemma_id] = start_worker(functools.partial(_discharge, task, chosen))
            for lemma_id, worker in list(running.items()):
                answer = poll(worker, timeout)
                if answer is not None:
                    del running[lemma_id]
                    done[lemma_id] = _outcome(plan, checker, plan.tasks[lemma_id], answer, worker.start, stamps)
                    report(lemma_id)
        stamps.save()
    _log_phases(plan, done)
    return [done[i] for i in plan.order]


def _try_reuse(plan: Plan, checker: Checker, lemma_id: str, force: bool, stamps: Stamps) -> Outcome | None:
    """The outcome of re-using the lemma's certificate, or None when it must be (re-)proved.

    Re-used: the certificate settles the lemma (an ``unknown`` one is tried again) and the kernel
    accepts it against the current inputs, or accepted exactly these bytes before
    (`proofs.prooftree.stamps`).
    """
    task = plan.tasks[lemma_id]
    if force:
        stamps.forget(lemma_id)
        return None
    path = certificate_path(plan.root, plan.settings.certificates, lemma_id)
    if not path.is_file() or not _settles(path):
        return None
    accepted = _accepted(checker, task, path, stamps)
    if accepted is None:
        return None
    doc, why = accepted
    return Outcome(lemma_id, task.lemma.kind, doc["status"], task.lemma.expect.value, doc.get("values", {}),
                   relative(path, plan.root), 0.0, "re-used", why)


def _settles(path: Path) -> bool:
    """Whether the certificate at `path` claims a verdict (``proved`` or ``refuted``)."""
    try:
        return read_certificate(path).get("status") in ("proved", "refuted")
    except CheckFailure:
        return False


def _accepted(checker: Checker, task: Task, path: Path, stamps: Stamps) -> tuple[dict[str, Any], str] | None:
    """The certificate at `path` and why it stands, if the kernel accepts it (or accepted exactly
    these bytes before); else None."""
    if stamps.accepted_before(task):
        return read_certificate(path), "inputs and certificate unchanged since the kernel accepted them"
    try:
        doc = checker.check_file(path)
    except CheckFailure:
        stamps.forget(task.lemma.id)
        return None
    stamps.record(task)
    return doc, "inputs unchanged and the certificate still checks"


def _kept(plan: Plan, checker: Checker, task: Task, values: dict[str, Any], seconds: float, action: str,
          reason: str, stamps: Stamps) -> Outcome | None:
    """This run left the lemma unknown: keep its certificate if that one settles it and still checks.

    Returns the outcome (unknown, saying the certificate was kept), or None when there is none to keep.
    """
    path = certificate_path(plan.root, plan.settings.certificates, task.lemma.id)
    if not path.is_file() or not _settles(path):
        return None
    accepted = _accepted(checker, task, path, stamps)
    if accepted is None:
        return None
    kept = accepted[0]["status"]
    return Outcome(task.lemma.id, task.lemma.kind, "unknown", task.lemma.expect.value, values,
                   relative(path, plan.root), seconds, action,
                   f"{reason}; the previous certificate ({kept}), which still checks, was kept")


def _outcome(plan: Plan, checker: Checker, task: Task, answer: tuple[str, Any], start: float,
             stamps: Stamps) -> Outcome:
    kind, result = answer
    if kind == "ok":
        fields, arrays = result
        doc, table = _document(plan, task, fields)
        return _finish(plan, checker, task, doc, table, arrays, start, "discharged", stamps)
    seconds = time.perf_counter() - start
    if kind == "timeout":
        kept = _kept(plan, checker, task, {}, seconds, kind, str(result), stamps)
        if kept is not None:
            return kept
    status = "unknown" if kind == "timeout" else "error"
    return Outcome(task.lemma.id, task.lemma.kind, status, task.lemma.expect.value, {}, None,
                   seconds, kind, str(result))


def _finish(plan: Plan, checker: Checker, task: Task, doc: dict[str, Any], table: bytes | None,
            arrays: dict[str, Any], start: float, action: str, stamps: Stamps) -> Outcome:
    if doc["status"] == "unknown":
        kept = _kept(plan, checker, task, doc.get("values", {}), time.perf_counter() - start, action,
                     doc.get("reason", "no verdict"), stamps)
        if kept is not None:
            return kept
    decided = _phase("decide", start)
    try:
        path = _write(plan, task, doc, arrays, table)
    except (FieldError, StatementError) as exc:
        stamps.forget(task.lemma.id)
        return Outcome(task.lemma.id, task.lemma.kind, "error", task.lemma.expect.value, doc.get("values", {}),
                       None, time.perf_counter() - start, "rejected",
                       f"the engine's certificate does not read, so it was not written: {exc}")
    checker.accepted.pop(str(path.resolve()), None)  # the kernel judges the new bytes, not a remembered file
    written = _phase("write", decided)
    seconds = written - start
    _log_time(plan, task.lemma.id, seconds)
    try:
        checker.check_file(path)
        _phase("check", written)
    except CheckFailure as exc:
        stamps.forget(task.lemma.id)
        return Outcome(task.lemma.id, task.lemma.kind, "error", task.lemma.expect.value, doc.get("values", {}),
                       relative(path, plan.root), seconds, "rejected", f"the kernel rejected it: {exc}")
    stamps.record(task)
    return Outcome(task.lemma.id, task.lemma.kind, doc["status"], task.lemma.expect.value, doc.get("values", {}),
                   relative(path, plan.root), seconds, action, doc.get("reason", "inputs new or changed"))


PHASES: dict[str, float] = {}
"""Seconds spent in this run's ``decide``, ``write`` and ``check`` phases (summed over lemmas)."""


def _phase(name: str, since: float) -> float:
    now = time.perf_counter()
    PHASES[name] = PHASES.get(name, 0.0) + now - since
    return now


def _log_phases(plan: Plan, done: dict[str, Outcome]) -> None:
    """``.proofs/phases.json``: where this run's time went (load, translate, decide, write, check),
    for the benchmarks' breakdown beside the end-to-end time."""
    seen = {id(t.translation): t.translation for t in plan.tasks.values() if t.translation is not None}
    phases = {"load": sum(t.seconds.get("load", 0.0) for t in seen.values()),
              "translate": sum(t.seconds.get("translate", 0.0) for t in seen.values())}
    phases.update({k: PHASES.get(k, 0.0) for k in ("decide", "write", "check")})
    write_state(state_file(plan.root, "phases.json"),
                (json.dumps({k: round(v, 3) for k, v in phases.items()}, indent=2) + "\n").encode())
    PHASES.clear()


def _log_time(plan: Plan, lemma_id: str, seconds: float) -> None:
    """Record the run time beside the certificates (not inside: they are byte-deterministic)."""
    log = state_file(plan.root, "timings.json")
    try:
        data = json.loads(log.read_text()) if log.is_file() else {}
    except (OSError, json.JSONDecodeError):
        data = {}
    data[lemma_id] = round(seconds, 3)
    write_state(log, (json.dumps(data, sort_keys=True, indent=2) + "\n").encode())
