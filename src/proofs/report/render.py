"""Summaries of `proofs prove` / `proofs check` runs: a table for people, JSON for machines."""

from __future__ import annotations

from typing import Any

__all__ = ["exit_code", "results_json", "summary_table"]


def results_json(outcomes: list[Any]) -> dict[str, Any]:
    return {"results": [
        {"id": o.id, "kind": o.kind, "status": o.status, "expected": o.expected, "values": o.values,
         "certificate": o.certificate, "seconds": round(o.seconds, 3), "action": o.action, "reason": o.reason}
        for o in outcomes]}


def exit_code(outcomes: list[Any]) -> int:
    """SPEC §7: 1 if a decided verdict differs from its expectation or a certificate failed; else 3
    if a lemma is unknown; else 0."""
    if any(o.status == "error" or (o.status in ("proved", "refuted") and o.status != o.expected) for o in outcomes):
        return 1
    if any(o.status == "unknown" and o.expected != "unknown" for o in outcomes):
        return 3
    return 0


def summary_table(outcomes: list[Any]) -> Any:
    from rich.table import Table

    table = Table(title="proofs", show_lines=False)
    for column in ("lemma", "kind", "status", "expected", "how", "seconds"):
        table.add_column(column, no_wrap=True)
    table.add_column("note")
    colours = {"proved": "green", "refuted": "red", "unknown": "yellow", "error": "red"}
    for o in outcomes:
        ok = o.status == o.expected
        status = f"[{colours.get(o.status, 'white')}]{o.status}[/]"
        note = "" if ok and o.action in ("re-used",) else o.reason
        table.add_row(o.id, o.kind, status, o.expected if not ok else "✓", o.action, f"{o.seconds:.2f}", note)
    return table
