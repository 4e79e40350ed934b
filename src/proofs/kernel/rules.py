"""Composition rules of the proof tree.

TRUSTED. A safety certificate π₀ ⊨ Φ follows from an alignment lemma (every ε_A-optimal policy
satisfies Φ) and a policy lemma (π₀ is ε_P-optimal) on the same world model (same file hash),
the same objective, the same policy table, with ε_P ≤ ε_A: π₀ is then ε_A-optimal, hence ⊨ Φ.
"""

from __future__ import annotations

from proofs.core.certificates import Certificate
from proofs.core.errors import CheckFailure

__all__ = ["check_composition"]


def check_composition(name: str, alignment: Certificate, policy: Certificate) -> None:
    """Raise `CheckFailure` unless the two (already checked, proved) premises compose."""
    def fail(what: str) -> None:
        raise CheckFailure(f"{name}: composition step: {what}")

    if alignment.statement.kind != "alignment" or policy.statement.kind != "policy":
        fail("the premises must be one alignment lemma and one policy lemma")
    for premise in (alignment, policy):
        if premise.status != "proved":
            fail(f"premise {premise.lemma.id!r} is {premise.status}, not proved")
    a_world, p_world = alignment.inputs.worldmodel, policy.inputs.worldmodel
    if a_world is None or p_world is None or a_world.sha256 != p_world.sha256:
        fail("the premises are about different world models (SHA-256 differs)")
    if alignment.statement.objective != policy.statement.objective:
        fail("the premises use different objectives")
    eps_a, eps_p = alignment.statement.epsilon, policy.statement.epsilon
    assert eps_a is not None and eps_p is not None
    if not eps_p <= eps_a:
        fail(f"epsilon_P = {eps_p} <= epsilon_A = {eps_a} fails")
