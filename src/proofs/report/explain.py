"""`proofs explain ID`: a certificate in words."""

from __future__ import annotations

from typing import Any

from proofs.kernel.enclosure import Enclosure

__all__ = ["explain"]


def _num(value: dict[str, str]) -> str:
    return Enclosure.from_json(value).decimal(8)


def explain(doc: dict[str, Any]) -> str:
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
            lines.append(f"    state {d['state']!s}{step}: visited with probability {d['visit']:.4g}, loses "
                         f"{d['loss']:.4g}; the policy does {d['policy_action']!s}, optimal is {d['optimal_action']!s}")
    if lemma["kind"] == "certificate":
        lines.append(f"  premises: {', '.join(values.get('premises', []))}")
    if doc.get("reason"):
        lines.append(f"  note: {doc['reason']}")
    engine = doc.get("engine", {})
    lines.append(f"  engine: {engine.get('name')} {engine.get('version')}")
    return "\n".join(lines)
