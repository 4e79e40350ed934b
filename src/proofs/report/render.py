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


_COLOURS = {"proved": "green", "refuted": "red", "unknown": "yellow", "error": "red"}
_PLAIN_REASONS = ("inputs new or changed",)


def summary_table(outcomes: list[Any]) -> Any:
    """A table of the outcomes, then a note per lemma that needs one, readable at 80 columns.

    The table holds only short cells (status, expectation, how, seconds); a lemma id too long for
    its column wraps, and the status is never cut. Reasons, which can be long, are printed below
    the table as wrapped lines, one per lemma.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="proofs", show_lines=False)
    table.add_column("lemma", overflow="fold")
    table.add_column("status", no_wrap=True, min_width=len("refuted"))
    table.add_column("expected", no_wrap=True)
    table.add_column("how", no_wrap=True)
    table.add_column("seconds", no_wrap=True, justify="right")
    notes = []
    for o in outcomes:
        ok = o.status == o.expected
        status = f"[{_COLOURS.get(o.status, 'white')}]{o.status}[/]"
        table.add_row(o.id, status, "✓" if ok else o.expected, o.action, f"{o.seconds:.2f}")
        if o.reason and (not ok or (o.action != "re-used" and o.reason not in _PLAIN_REASONS)):
            notes.append(Text.assemble("· ", (o.id, "bold"), f" ({o.status}): {o.reason}"))
    if any(o.status == "unknown" and "was kept" in o.reason for o in outcomes):
        notes.append(Text("A lemma left unknown is tried again by the next `proofs prove`."))
    return Group(table, *notes) if notes else table
