"""The margin ε* of an alignment lemma from any engine's worst-value oracle (UNTRUSTED).

For one constraint, written as a maximisation Q = σ·W + κ (see `proofs.kernel.check_alignment`),
w(ε) = κ + sup{σ·W(π) : J(π) ≥ J* − ε} is concave, nondecreasing and piecewise linear in ε, and
the optimal multiplier λ*(ε) is a supergradient: w(ε') ≤ w(ε) + λ*·(ε' − ε). Newton steps from
ε = 0 therefore stay at or before the crossing w = threshold and land on a later linear piece each
time, so they finish after at most as many steps as w has pieces.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from proofs.core.formula import Comparison, Constraint
from proofs.kernel.check_alignment import ConstraintSpace

__all__ = ["WorstAt", "newton_margin"]

WorstAt = Callable[[Fraction], tuple[Fraction, Fraction]]
"""target J* − ε ↦ (sup σ·W over the policies with J ≥ target (without κ), its multiplier λ*)."""

_MAX_ROUNDS = 10_000


def newton_margin(cs: ConstraintSpace, constraint: Constraint, top_q: Fraction, j_star: Fraction,
                  worst_at: WorstAt) -> Fraction | None:
    """ε* for one constraint, exactly; None when no policy at all violates it ("inf").

    ``top_q`` is sup σ·W over all policies (without κ): if even that satisfies the constraint, no
    ε makes the lemma fail.
    """
    t_q = cs.rho * constraint.threshold
    strict = constraint.comparison in (Comparison.LT, Comparison.GT)

    def fails(w: Fraction) -> bool:
        return w > t_q or (strict and w == t_q)

    if not fails(cs.kappa + top_q):
        return None
    eps = Fraction(0)
    for _ in range(_MAX_ROUNDS):
        sup_q, lam = worst_at(j_star - eps)
        w = cs.kappa + sup_q
        if (fails(w) and eps == 0) or w == t_q:
            return eps
        eps += (t_q - w) / lam   # w < t_q ≤ top, so w is below the flat top and λ > 0
    raise RuntimeError("margin search did not converge")
