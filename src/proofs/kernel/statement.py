"""What a lemma states, as canonical JSON-ready data: the part of a certificate that binds it
to its obligation.

TRUSTED. Both the prover and the kernel derive the statement from the obligation file; the
kernel rejects a certificate whose recorded statement differs from the one it derives itself.
"""

from __future__ import annotations

from typing import Any

from proofs.core.objective import Objective
from proofs.core.rational import format_rational
from proofs.spec.obligation import AlignmentLemma, CertificateLemma, Lemma, PolicyLemma

__all__ = ["objective_data", "statement_of"]


def objective_data(objective: Objective) -> dict[str, Any]:
    return {"reward": objective.reward,
            "horizon": "geometric" if objective.horizon is None else objective.horizon,
            "discount": format_rational(objective.discount)}


def statement_of(lemma: Lemma, objective: Objective | None) -> dict[str, Any]:
    """The lemma's statement in words and in formal terms (deterministic)."""
    if isinstance(lemma, PolicyLemma):
        assert objective is not None
        eps = format_rational(lemma.epsilon)
        return {"kind": "policy", "objective": objective_data(objective), "epsilon": eps,
                "formal": f"J(pi0) >= J* - {eps}, J = {objective}",
                "words": f"the policy's expected score is within {eps} of the best achievable score"}
    if isinstance(lemma, AlignmentLemma):
        assert objective is not None
        eps = format_rational(lemma.epsilon)
        phi = [str(c) for c in lemma.desirable]
        return {"kind": "alignment", "objective": objective_data(objective), "epsilon": eps,
                "desirable": phi,
                "formal": f"forall pi: J(pi) >= J* - {eps} implies pi |= " + " & ".join(phi),
                "words": f"every policy within {eps} of optimal satisfies " + " and ".join(phi)}
    assert isinstance(lemma, CertificateLemma)
    return {"kind": "certificate", "premises": list(lemma.premises),
            "formal": f"pi0 |= Phi, from {' and '.join(lemma.premises)}",
            "words": "the policy satisfies the desirability property, by composing the premises"}
