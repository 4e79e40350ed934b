"""Public evaluation API: J*, an optimal policy, J(π) and every constraint's value under π.

Exact (`Fraction`) on small models, sound float enclosures on large ones; never a bare float.
Every result is an `Enclosure` at μ₀ (``lo == hi`` when exact).
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from proofs.core.enclosure import Enclosure
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.policy import Policy
from proofs.kernel.episode import Quantity, constraint_quantity, objective_quantity
from proofs.semantics import exact, sound

__all__ = [
    "EXACT_LIMIT",
    "Optimum",
    "evaluate_constraint",
    "evaluate_objective",
    "optimal",
    "optimal_quantity",
    "quantity_value",
    "use_exact",
]

# Work (transitions × steps) up to which evaluation is exact by default.
EXACT_LIMIT = 200_000


@dataclass(frozen=True, eq=False)
class Optimum:
    """J* at μ₀ and an optimal policy (time-dependent for a finite horizon)."""

    value: Enclosure
    policy: Policy


def denominator_bits(mdp: Mdp, discount: Fraction = Fraction(1)) -> int:
    """About log2 of the common denominator of the probabilities (and the discount): the bits an
    exact value gains per step of a finite-horizon recursion (0 when every probability is 0 or 1;
    capped at 256, where exact arithmetic is hopeless anyway)."""
    common = discount.denominator
    numbers = [mdp.probability] if mdp.probability is not None else list(mdp.interval or ())
    for den in np.unique(np.concatenate([r.den for r in numbers] or [np.ones(1, dtype=np.int64)])).tolist():
        common = math.lcm(common, int(den))
        if common.bit_length() > 256:
            break
    return min(common.bit_length() - 1, 256)


def exact_work(mdp: Mdp, steps: int | None, discount: Fraction = Fraction(1)) -> int:
    """What exact evaluation costs, in units of one `Fraction` step on small numbers (about 8 µs):
    transitions × steps, times the growth of the numbers along a finite horizon. A step adds
    `denominator_bits` to an exact value, and a unit on numbers of k bits costs about
    1 + k/1000 small ones (measured: 1,000-transition models at H = 50–200, 4 and 19 bits a step),
    so the average over the steps is 1 + steps·bits/2048. The geometric horizon counts 50 steps of
    linear algebra on the model's own numbers, or, where more, what its exact elimination costs:
    about n³ steps on numbers that grow with n·bits (measured on random models with six-digit
    decimals at γ = 9/10: 50 states 0.3 s, 100 states 4.4 s, 200 states 93 s). A model beyond
    `EXACT_LIMIT` on small numbers alone gets that lower figure."""
    base = mdp.n_transitions * (50 if steps is None else steps)
    if base > EXACT_LIMIT:
        return base   # beyond the limit on small numbers already: their growth (a pass over every
                      # probability's denominator) is not worth computing on a large model
    bits = denominator_bits(mdp, discount)
    if steps is None:
        n = mdp.n_states
        return max(base, int(n**3 * (1 + (n * bits / 500) ** 1.4) / 12))
    return base * (2048 + steps * bits) // 2048


def use_exact(mdp: Mdp, steps: int | None, exact_mode: bool | None, *, credal_floats: bool = False,
              discount: Fraction = Fraction(1)) -> bool:
    """Whether to evaluate exactly: as ``exact_mode`` says, else when `exact_work` is at most
    `EXACT_LIMIT` (transitions × steps on small numbers; fewer where the numbers grow).

    ``credal_floats`` says whether the caller's float path handles credal models: this module's
    does (`proofs.semantics.sound`), so its evaluations pick credal models by size too; with the
    default (False) a credal model is always exact, for callers whose float path is point-only
    (e.g. the kernel's `FastBellman`).

    >>> from tests.support.mdps import make_mdp
    >>> credal = make_mdp(["s"], {"s": [("stay", {"s": ("1/2", 1)})]})
    >>> use_exact(credal, 10, None), use_exact(credal, 10, False, credal_floats=True)
    (True, False)
    """
    if mdp.is_credal and not credal_floats:
        return True
    if exact_mode is not None:
        return exact_mode
    return exact_work(mdp, steps, discount) <= EXACT_LIMIT


def _at_initial_exact(mdp: Mdp, values: list[Fraction]) -> Enclosure:
    return Enclosure.exact(sum((p * values[s] for s, p in mdp.initial_distribution()), Fraction(0)))


def _at_initial_box(mdp: Mdp, box: sound.Box) -> Enclosure:
    lo = hi = Fraction(0)
    for s, p in mdp.initial_distribution():
        lo += p * Fraction(float(box[0][s]))
        hi += p * Fraction(float(box[1][s]))
    return Enclosure(lo, hi)


def _nature(q: Quantity, maximise: bool) -> int:
    """Nature works against the quantity's direction: it minimises what is maximised."""
    return -1 if maximise else 1


def quantity_value(mdp: Mdp, q: Quantity, policy: Policy, *, worst_high: bool = False,
                   exact_mode: bool | None = None) -> Enclosure:
    """The quantity under a policy at μ₀; on a credal model nature makes it lowest (or highest)."""
    nature = 1 if worst_high else -1
    if use_exact(mdp, q.steps, exact_mode, credal_floats=True, discount=q.beta):
        values = exact.evaluate_policy(exact.ExactModel.of(mdp), q, policy, nature=nature)
        result = _at_initial_exact(mdp, values)
    else:
        result = _at_initial_box(mdp, sound.evaluate_policy(sound.SoundModel.of(mdp), q, policy, nature=nature))
    result = result.complement() if q.complement else result
    return result.within(0, 1) if is_probability(q) else result


def is_probability(q: Quantity) -> bool:
    """A quantity without rewards is the probability of an event of the episode: it lies in [0, 1]."""
    return not q.reward.num.any()


def optimal(mdp: Mdp, objective: Objective, *, exact_mode: bool | None = None) -> Optimum:
    """J* = sup over all policies of J, and an optimal policy (worst case over nature if credal)."""
    return optimal_quantity(mdp, objective_quantity(mdp, objective), maximise=True, exact_mode=exact_mode)


def optimal_quantity(mdp: Mdp, q: Quantity, *, maximise: bool, exact_mode: bool | None = None,
                     nature_helps: bool = False) -> Optimum:
    """The best value of the quantity W at μ₀ over all policies (nature against, or with
    ``nature_helps`` on the optimiser's side: a constraint's worst case over policies and nature),
    and a policy attaining it. For ``G`` (``q.complement``) this is the optimum of W, not of the
    reported 1 − W."""
    nature = -_nature(q, maximise) if nature_helps else _nature(q, maximise)
    if use_exact(mdp, q.steps, exact_mode, credal_floats=True, discount=q.beta):
        values, policy = exact.optimise(exact.ExactModel.of(mdp), q, maximise=maximise, nature=nature)
        return Optimum(_at_initial_exact(mdp, values), policy)
    box, policy = sound.optimise(sound.SoundModel.of(mdp), q, maximise=maximise, nature=nature)
    return Optimum(_at_initial_box(mdp, box), policy)


def evaluate_objective(mdp: Mdp, objective: Objective, policy: Policy, *,
                       exact_mode: bool | None = None) -> Enclosure:
    """J(π) (its worst case over nature on a credal model)."""
    return quantity_value(mdp, objective_quantity(mdp, objective), policy, exact_mode=exact_mode)


def evaluate_constraint(mdp: Mdp, objective: Objective, policy: Policy, constraint: Constraint, *,
                        exact_mode: bool | None = None) -> Enclosure:
    """The value of a constraint's quantity under π on the episode of `objective`.

    On a credal model, nature picks the most unfavourable value for the constraint: the highest
    for ``<=``/``<`` and the lowest for ``>=``/``>``.
    """
    q = constraint_quantity(mdp, objective, constraint)
    # for G (complement) the reported number is 1 - W: to make it high, nature makes W low
    high = constraint.comparison.is_upper != q.complement
    return quantity_value(mdp, q, policy, worst_high=high, exact_mode=exact_mode)

