"""`proofs explain ID`: a certificate in words."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from proofs.kernel.enclosure import Enclosure

__all__ = ["StepTables", "explain"]


class StepTables:
    """A float certificate's step tables with the names of the states and actions they index."""

    def __init__(self, arrays: dict[str, Any], states: Sequence[str],
                 actions: Callable[[int], Sequence[str]]) -> None:
        self.arrays, self.states, self.actions = arrays, states, actions

    def table(self, part: dict[str, Any]) -> Any:
        """A component's tables, decoded as the kernel decodes them."""
        from proofs.kernel.check_alignment_float import decode_step_tables

        return decode_step_tables(self.arrays[part["step_tables"]], part.get("encoding", "plain"), "explain")

    def action(self, table: Any, step: int, state: int) -> str:
        return self.actions(state)[int(table[step, state])]


def _num(value: dict[str, str]) -> str:
    return Enclosure.from_json(value).decimal(8)


def explain(doc: dict[str, Any], tables: StepTables | None = None) -> str:
    """The certificate in words. ``tables`` reads a float certificate's step tables by name."""
    lemma, statement, status = doc["lemma"], doc["statement"], doc["status"]
    lines = [f"{lemma['id']} ({lemma['kind']} lemma, {lemma['obligation']}): {status.upper()}",
             f"  claim: {statement['words']}", f"  formal: {statement['formal']}"]
    values = doc.get("values", {})
    if lemma["kind"] == "policy" and values:
        lines += [f"  J(policy) = {_num(values['j_policy'])}", f"  J*        = {_num(values['j_star'])}",
                  f"  gap       = {_num(values['gap'])} (allowed: {statement['epsilon']})"]
        if status == "proved":
            lines.append("  The policy loses at most the allowed amount of score.")
        elif status == "refuted":
            lines.append("  The policy loses more than allowed. Where it loses the most (visit probability x "
                         "value lost; floating-point, for explanation only):")
        for d in doc.get("diagnosis", [])[:10]:
            step = f" at step {d['step']}" if d.get("step") is not None else ""
            lines.append(f"    state {d['state']!s}{step}: visited {d['visits']:.4g}, loses {d['loss']:.4g}; "
                         f"the policy does {d['action']!s}, optimal is {d['optimal_action']!s}")
    if lemma["kind"] == "alignment" and values:
        lines += _alignment(doc, values, tables)
    if lemma["kind"] == "certificate":
        lines.append(f"  premises: {', '.join(values.get('premises', []))}")
    if doc.get("reason"):
        lines.append(f"  note: {doc['reason']}")
    engine = doc.get("engine", {})
    lines.append(f"  engine: {engine.get('name')} {engine.get('version')}")
    return "\n".join(lines)


def _alignment(doc: dict[str, Any], values: dict[str, Any], tables: StepTables | None) -> list[str]:
    lines = [f"  J* = {_num(values['j_star'])}; near-optimal means J >= J* - {doc['statement']['epsilon']}"]
    for row in values.get("constraints", []):
        verdict = {True: "holds", False: "VIOLATED", None: "undecided"}[row["holds"]]
        lines.append(f"  {row['constraint']}: the worst near-optimal policy reaches {_num(row['worst'])} "
                     f"(threshold {row['threshold']}): {verdict}")
    margin = values.get("margin")
    if margin is not None:
        shown = "inf (no policy at all violates it)" if margin == "inf" else _num(margin)
        lines.append(f"  margin epsilon* = {shown}: the lemma holds for every epsilon below it")
    cex = doc.get("counterexample")
    if cex:
        lines.append("  The reward hack (a near-optimal policy that violates it):")
        if any("step_tables" in part for part in cex.get("mixture", [])):
            return lines + _float_mixture(cex["mixture"], tables)
        return lines + _exact_mixture(cex.get("mixture", []))
    return lines


def _weight(text: str) -> str:
    return Enclosure.from_json({"lo": text, "hi": text}).decimal(6)


def _exact_mixture(parts: list[dict[str, Any]]) -> list[str]:
    """A start mixture of step tables: the weights, and (the first few places) where they differ."""
    names = "ABCDEFGH"
    lines = [f"    policy {names[i]} with probability {_weight(p['weight'])}: its step tables until the constraint "
             "is decided, then optimally for J" for i, p in enumerate(parts[:8])]
    tables = [p.get("before_decided", {}).get("steps", []) for p in parts[:8]]
    if len(tables) == 1:
        first = sorted(tables[0][0].items())[:8] if tables[0] else []
        more = " ..." if tables[0] and len(tables[0][0]) > 8 else ""
        return lines + ["    at step 0 it does: " + ", ".join(f"{s}: {_act(a)}" for s, a in first) + more]
    shown = []
    for t in range(max(len(x) for x in tables)):
        rows = [x[min(t, len(x) - 1)] if x else {} for x in tables]
        for state in sorted(set().union(*rows)):
            acts = [_act(r.get(state, "-")) for r in rows]
            if len(set(acts)) > 1:
                shown.append(f"      step {t}, {state}: " + " / ".join(acts))
    lines.append(f"    they differ ({' / '.join(names[:len(tables)])}) in {len(shown)} places; the first:")
    return lines + shown[:10]


def _act(action: Any) -> str:
    if isinstance(action, str):
        return action
    return "{" + ", ".join(f"{a}: {_weight(p)}" for a, p in action.items()) + "}"


def _float_mixture(parts: list[dict[str, Any]], tables: StepTables | None) -> list[str]:
    """A start mixture of deterministic step tables: the weights, and where the policies differ."""
    lines = [f"    a start mixture: with probability {_weight(p['weight'])} act by table {p['step_tables']!r} until the "
             "constraint is decided, then optimally for J" for p in parts]
    if tables is None:
        return lines + ["    (the tables are in the certificate's witness file)"]
    first = tables.table(parts[0])
    if len(parts) == 2 and first.shape[0] > 0:
        other = tables.table(parts[1])
        differ = [int(s) for s in (first[0] != other[0]).nonzero()[0]]
        lines.append(f"    at step 0 the two tables differ in {len(differ)} states, for example:")
        lines += [f"      {tables.states[s]}: {tables.action(first, 0, s)} or "
                  f"{tables.action(other, 0, s)}" for s in differ[:8]]
    elif first.shape[0] > 0:
        lines.append("    at step 0 it acts: " + ", ".join(
            f"{tables.states[s]}: {tables.action(first, 0, s)}" for s in range(min(8, first.shape[1]))))
    return lines
