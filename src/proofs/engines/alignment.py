"""What every alignment engine returns, and the certificate fields made from it (UNTRUSTED).

Engines (`lagrangian`, `lp`, `smt`, ...) all produce the witness format that
`proofs.kernel.check_alignment` documents: per constraint a multiplier ``lambda`` (an upper bound
on the worst value by weak duality) and an ``attained`` start mixture (a lower bound), plus the
geometric horizon's ``j_values``. The kernel re-checks all of it; nothing here is trusted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from proofs.core.certificates import AlignmentBody
from proofs.core.enclosure import Enclosure
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.rational import ExpressionError, format_rational, parse_rational
from proofs.core.statement import objective_data
from proofs.kernel.check_alignment import Episode, optimal_to_go
from proofs.kernel.episode import objective_quantity
from proofs.semantics import exact

__all__ = ["AlignmentResult", "ConstraintResult", "certificate_body", "certificate_fields", "constraint_hints", "exact_episode",
           "exact_work", "hint_number", "hinted_lambda", "hinted_lambdas"]


@dataclass(frozen=True)
class ConstraintResult:
    """One constraint: its worst value over the ε-optimal policies and whether it holds."""

    constraint: str
    threshold: Fraction
    worst: Enclosure
    holds: bool | None
    lam: Fraction


@dataclass(frozen=True)
class AlignmentResult:
    """The engine's answer; ``witness``/``counterexample`` are the certificate's JSON data, ``arrays``
    the large witness parts for its ``.npz`` sidecar (float certificates)."""

    status: str
    constraints: tuple[ConstraintResult, ...]
    j_star: Enclosure
    witness: dict[str, Any]
    counterexample: dict[str, Any] | None
    engine: str = "lagrangian"
    margin: Enclosure | str | None = None
    reason: str = ""
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def unknown(cls, engine: str, reason: str, j_star: Enclosure | None = None) -> AlignmentResult:
        """No verdict and no claim, with the reason (and J* if it is known)."""
        zero = Enclosure(Fraction(0), Fraction(0))
        return cls("unknown", (), zero if j_star is None else j_star, {}, None, engine=engine, reason=reason)


def exact_episode(mdp: Mdp, objective: Objective) -> Episode:
    """The exact optimal J-to-go (per step for a finite horizon) as the kernel's `Episode`."""
    if objective.horizon is not None:
        return Episode(mdp, objective, optimal_to_go(mdp, objective))
    values, _ = exact.optimise(exact.ExactModel.of(mdp), objective_quantity(mdp, objective), maximise=True)
    return Episode(mdp, objective, values)


def exact_work(mdp: Mdp, objective: Objective) -> int:
    """What an exact engine's limit bounds: `proofs.semantics.evaluate.exact_work` (transitions ×
    steps, more where the exact numbers grow along the steps; 50 steps for the geometric horizon)."""
    from proofs.semantics.evaluate import exact_work as work

    return work(mdp, objective.horizon, objective.discount)



def certificate_fields(result: AlignmentResult) -> dict[str, Any]:
    """The certificate fields of a result (``status``, ``values``, ``witness``, ...)."""
    values: dict[str, Any] = {"j_star": result.j_star.to_json(), "constraints": [
        {"constraint": r.constraint, "threshold": format_rational(r.threshold), "worst": r.worst.to_json(),
         "holds": r.holds, "lambda": format_rational(r.lam)} for r in result.constraints]}
    if result.margin is not None:
        values["margin"] = result.margin if isinstance(result.margin, str) else result.margin.to_json()
    fields: dict[str, Any] = {"status": result.status, "values": values, "witness": result.witness}
    if result.counterexample is not None:
        fields["counterexample"] = result.counterexample
    if result.reason:
        fields["reason"] = result.reason
    return fields


def certificate_body(result: AlignmentResult, objective: Objective, epsilon: Fraction) -> AlignmentBody:
    """The typed body of the result's certificate, what the kernel's alignment checkers read (with
    ``result.status`` beside it)."""
    fields = {k: v for k, v in certificate_fields(result).items() if k != "status"}
    return AlignmentBody.from_json({**fields, "objective": objective_data(objective),
                                    "epsilon": format_rational(epsilon)})


def hint_number(value: Any) -> Fraction | None:
    """An exact number from a hint (a number or text), or None if it is not one."""
    try:
        if isinstance(value, str):
            return parse_rational(value)
        if isinstance(value, (Fraction, int, float)) and not isinstance(value, bool):
            return Fraction(value)
    except (ExpressionError, ValueError, OverflowError):
        pass
    return None


def constraint_hints(hints: Mapping[str, Any] | None, i: int) -> dict[str, Any]:
    """The hints of constraint i: the top-level keys, overridden by ``hints["constraints"][i]``."""
    if not hints:
        return {}
    merged = {k: v for k, v in hints.items() if k != "constraints"}
    per = hints.get("constraints")
    if isinstance(per, Sequence) and i < len(per) and isinstance(per[i], Mapping):
        merged.update(per[i])
    return merged


def hinted_lambdas(hints: Mapping[str, Any] | None) -> list[Fraction]:
    """The usable multipliers of ``hints["lambda"]`` (a number, text, or a list of them).

    Hints are shared by every engine and never trusted: anything that is not a rational ≥ 0 is
    ignored.
    """
    raw = None if not hints else hints.get("lambda")
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return [f for f in map(hint_number, items) if f is not None and f >= 0]


def hinted_lambda(hints: Mapping[str, Any] | None) -> Fraction | None:
    """The first usable hinted multiplier, if any."""
    found = hinted_lambdas(hints)
    return found[0] if found else None
