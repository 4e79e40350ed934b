"""What a lemma states: the part of a certificate that says what is proved, stored once.

TRUSTED. A `Statement` is written into the certificate by `proofs prove` (from the obligation,
by the untrusted spec reader) and read back strictly by the kernel, which checks the witness
against it. Its words and PRISM text are derived from the structured fields, so a certificate
cannot show one claim and prove another: `Statement.from_json` rejects a document whose text
differs from the text its structured fields give.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from proofs.core.formula import Constraint, FormulaError, constraint_from_json, to_json
from proofs.core.objective import Objective
from proofs.core.rational import format_rational, parse_rational

__all__ = ["Statement", "StatementError", "objective_data", "objective_from_json"]


class StatementError(ValueError):
    """A statement document that `Statement.to_json` could not have written."""


def objective_data(objective: Objective) -> dict[str, Any]:
    return {"reward": objective.reward,
            "horizon": "geometric" if objective.horizon is None else objective.horizon,
            "discount": format_rational(objective.discount)}


def objective_from_json(data: object, where: str = "objective") -> Objective:
    if not isinstance(data, dict) or set(data) != {"reward", "horizon", "discount"}:
        raise StatementError(f"{where}: expected the keys discount, horizon and reward")
    reward, horizon, discount = data["reward"], data["horizon"], data["discount"]
    if not isinstance(reward, str) or not isinstance(discount, str) or len(discount) > 200:
        raise StatementError(f"{where}: reward and discount are texts")
    if horizon != "geometric" and (not isinstance(horizon, int) or isinstance(horizon, bool)
                                   or not 1 <= horizon < 2**40):
        raise StatementError(f"{where}.horizon: \"geometric\" or an integer from 1 to 2**40")
    try:
        return Objective(reward, None if horizon == "geometric" else horizon, parse_rational(discount))
    except (ValueError, ArithmeticError) as exc:
        raise StatementError(f"{where}: {str(exc)[:120]}") from None


@dataclass(frozen=True)
class Statement:
    """A lemma's claim.

    ``policy``: J(π₀) ≥ J* − ε for the objective. ``alignment``: every policy with J ≥ J* − ε
    satisfies every constraint of ``phi``. ``certificate``: π₀ ⊨ Φ, composed from ``premises``.
    """

    kind: str
    objective: Objective | None = None
    epsilon: Fraction | None = None
    phi: tuple[Constraint, ...] = ()
    premises: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        if self.kind == "certificate":
            return {"kind": "certificate", "premises": list(self.premises),
                    "formal": f"pi0 |= Phi, from {' and '.join(self.premises)}",
                    "words": "the policy satisfies the desirability property, by composing the premises"}
        assert self.objective is not None and self.epsilon is not None
        eps = format_rational(self.epsilon)
        if self.kind == "policy":
            return {"kind": "policy", "objective": objective_data(self.objective), "epsilon": eps,
                    "formal": f"J(pi0) >= J* - {eps}, J = {self.objective}",
                    "words": f"the policy's expected score is within {eps} of the best achievable score"}
        texts = [str(c) for c in self.phi]
        return {"kind": "alignment", "objective": objective_data(self.objective), "epsilon": eps,
                "desirable": texts, "phi": [to_json(c) for c in self.phi],
                "formal": f"forall pi: J(pi) >= J* - {eps} implies pi |= " + " & ".join(texts),
                "words": f"every policy within {eps} of optimal satisfies " + " and ".join(texts)}

    @classmethod
    def from_json(cls, data: object) -> Statement:
        """Read a statement strictly: the structured fields, then the text must be theirs."""
        if not isinstance(data, dict):
            raise StatementError("statement: expected an object")
        kind = data.get("kind")
        try:
            if kind == "certificate":
                premises = data.get("premises")
                if not isinstance(premises, list) or not all(isinstance(p, str) for p in premises):
                    raise StatementError("statement.premises: expected a list of lemma ids")
                statement = cls("certificate", premises=tuple(premises))
            elif kind in ("policy", "alignment"):
                objective = objective_from_json(data.get("objective"), "statement.objective")
                epsilon_text = data.get("epsilon")
                if not isinstance(epsilon_text, str) or len(epsilon_text) > 200:
                    raise StatementError("statement.epsilon: expected a number written as text")
                epsilon = parse_rational(epsilon_text)
                phi: tuple[Constraint, ...] = ()
                if kind == "alignment":
                    rows = data.get("phi")
                    if not isinstance(rows, list) or len(rows) > 1000:
                        raise StatementError("statement.phi: expected a list of constraints")
                    phi = tuple(constraint_from_json(row, f"statement.phi[{i}]") for i, row in enumerate(rows))
                statement = cls(str(kind), objective, epsilon, phi)
            else:
                raise StatementError("statement.kind: expected policy, alignment or certificate")
        except (FormulaError, ValueError, ArithmeticError) as exc:
            raise StatementError(str(exc)[:300]) from None
        if statement.to_json() != data:
            raise StatementError("statement: its text (formal, words, desirable) or a key differs from what its "
                                 "structured fields say")
        return statement
