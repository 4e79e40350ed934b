"""The alignment lemma on credal (interval) models: exact, small models, finite horizons.

UNTRUSTED search; every verdict is re-checked by `proofs.kernel.check_alignment`.

On a credal model J(π) is nature's worst case J_lo(π) and J* = max_π J_lo(π); each constraint c of
Φ is judged in its own worst case over nature. Per constraint, two bounds on the worst value of
c over the policies with J_lo(π) ≥ J* − ε:

* **Upper**: the policy and nature chosen together. For such a π and c's worst nature ν_c,
  J(π, ν_c) ≥ J_lo(π) ≥ J* − ε, so the worst value is at most sup over (π, ν) with
  J(π, ν) ≥ J* − ε of Q = σ·W_c + κ, and by weak duality at most κ + G_co(λ) − λ·(J* − ε) for any
  λ ≥ 0, where G_co(λ) = max over π and ν of σ·W_c + λ·J (nature maximising too: one backward
  induction, nature's choice per choice the greedy distribution over the intervals). λ is the
  parametric search of `proofs.engines.dual` over these joint best responses.
* **Lower**: a concrete policy, the best of the search's policies (and a robust J-optimal one)
  whose J_lo is certainly ≥ J* − ε, evaluated under one nature (`check_alignment._credal_mixture`).

When the two bounds decide every constraint the verdict is ``proved`` or ``refuted`` (the
violating policy is the counterexample); otherwise ``unknown`` with the gap reached, never a guess.
The geometric horizon on credal models is not covered yet (``unknown``).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from proofs.core.certificates import ExactComponent, Mixture
from proofs.core.enclosure import Enclosure
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.rational import format_rational
from proofs.engines.alignment import AlignmentResult, ConstraintResult, exact_work
from proofs.engines.dual import GaveUp, at_initial, parametric
from proofs.engines.lagrangian import EXACT_LIMIT, Line, Responses
from proofs.kernel.check_alignment import (
    ConstraintSpace,
    Episode,
    constraint_space,
    evaluate_mixture,
    optimal_to_go,
)
from proofs.kernel.horizon import restrict

__all__ = ["discharge_credal"]

ENGINE = "lagrangian-robust"
_ONE, _ZERO = Fraction(1), Fraction(0)


def discharge_credal(mdp: Mdp, objective: Objective, epsilon: Fraction,
                     constraints: Sequence[Constraint]) -> AlignmentResult:
    """The alignment lemma in the worst case over nature (module docstring)."""
    if objective.horizon is None:
        return AlignmentResult.unknown(ENGINE, "credal models are decided with a finite horizon only, so far")
    mdp = restrict(mdp, objective.horizon)
    if exact_work(mdp, objective) > EXACT_LIMIT:   # the same bounds in floats (proofs.engines.lagrangian_float)
        from proofs.engines.lagrangian_float import discharge_restricted

        return discharge_restricted(mdp, objective, epsilon, constraints)
    robust, cooperative = optimal_to_go(mdp, objective, -1), optimal_to_go(mdp, objective, 1)
    ep = Episode(mdp, objective, robust, cooperative)     # what the kernel reads
    joint_ep = Episode(mdp, objective, cooperative)       # G_co(λ): after c is decided, nature cooperates
    j_star = at_initial(mdp, robust[0])
    target = j_star - epsilon
    rows, witnesses, gaps = [], [], []
    counterexample: dict[str, Any] | None = None
    try:
        for i, c in enumerate(constraints):
            cs = constraint_space(mdp, objective, c)
            lam, sup_q, seen = _upper(mdp, joint_ep, cs, target)
            bound = cs.reported(cs.kappa + sup_q)
            line, attained = _lower(mdp, ep, cs, target, seen)
            lo, hi = (attained, bound) if cs.rho > 0 else (bound, attained)
            holds: bool | None = True if c.comparison.holds(bound, c.threshold) else \
                False if not c.comparison.holds(attained, c.threshold) else None
            rows.append(ConstraintResult(str(c), c.threshold, Enclosure(lo, hi), holds, lam))
            mixture = {"mixture": [{"weight": "1", "before_decided": line.document(mdp), "after_decided": "J-optimal"}]}
            witnesses.append({"lambda": format_rational(lam), "attained": mixture})
            if holds is False and counterexample is None:
                counterexample = {"constraint": i, **mixture}
            if holds is None:
                gaps.append(f"{c}: the worst value lies in [{format_rational(lo)}, {format_rational(hi)}]")
    except GaveUp as exc:
        return AlignmentResult.unknown(ENGINE, str(exc), Enclosure.exact(j_star))
    status = "refuted" if counterexample is not None else "unknown" if gaps else "proved"
    reason = "" if not gaps or counterexample is not None else \
        "the bounds do not decide: " + "; ".join(gaps) + " (policy and nature chosen together above, a concrete " \
        "policy below)"
    return AlignmentResult(status, tuple(rows), Enclosure.exact(j_star), {"constraints": witnesses}, counterexample,
                           engine=ENGINE, reason=reason)


def _upper(mdp: Mdp, ep: Episode, cs: ConstraintSpace, target: Fraction) -> tuple[Fraction, Fraction, list[Line]]:
    """(λ, sup of σ·W_c without κ) of the joint relaxation, and the policies it tried."""
    joint = Responses(mdp, ep, cs, nature=1)
    seen: list[Line] = []

    def respond(lam: Fraction) -> Line:
        line = joint.best((lam, _ONE))
        seen.append(line)
        return line

    b = respond(_ZERO)
    if b.j >= target:
        return _ZERO, b.q, seen
    a = joint.best((_ONE, _ZERO))
    seen.append(a)
    found = parametric(respond, a, b, target)
    if found is None:
        raise GaveUp(f"no multiplier found for {cs.constraint}")
    return found.lam, found.sup_q, seen


def _lower(mdp: Mdp, ep: Episode, cs: ConstraintSpace, target: Fraction,
           seen: Sequence[Line]) -> tuple[Line, Fraction]:
    """The worst (for Φ) of the candidate policies whose robust J is ≥ target, and its value there."""
    robust_best = Responses(mdp, ep, cs, nature=-1).best((_ONE, _ZERO))
    best: tuple[Line, Fraction] | None = None
    for line in [robust_best, *seen]:
        steps = tuple(line.document(mdp)["steps"]) or ({},)
        j, value = evaluate_mixture(mdp, ep, cs, Mixture((ExactComponent(_ONE, steps),)), "engine")
        if j >= target and (best is None or cs.rho * value > cs.rho * best[1]):
            best = (line, value)
    assert best is not None   # the robust J-optimal policy has J = J* ≥ target
    return best
