"""The episode semantics of SPEC §2, as Bellman-form quantities. The single place that knows it.

TRUSTED (the kernel's checkers evaluate the same `Quantity`).

An episode starts in s₀ ~ μ₀, takes T actions and visits s₀ … s_T. Every number `proofs`
computes on an episode (J, a reward constraint, the probability of a path formula) is the value
at μ₀ of one `Quantity`: a value function W over states with

    W(s) = g(s)                                                     if s is a stop state
    W(s) = Σ_a π(a|s) · ( r(s,a) + Σ_s' P(s'|s,a) · (β·W(s') + η·g(s')·[s' stops]) )   otherwise

where W is "the value from s, given s is visited and the episode acts there".

- Finite horizon H: T = H, η = 0; the recursion runs over steps t = 0 … L-1 with the terminal
  W_L(s) = g(s)·[s stops], where L = min(k, H) for a step bound k, else H.
- Geometric horizon γ: after each step the episode continues with probability γ, so β = γ and
  η = 1 − γ: the state reached by the last action is still visited (s_T counts), and decides the
  path formula if it is a stop state. Unbounded: a contraction fixed point (β < 1). A step bound k
  runs the same recursion for L = k steps.

J uses r = the objective's reward, β = d (finite) or γ, no stop states. `R{"c"}[C<=k]` uses
r = c, β = 1 (finite) or γ, undiscounted within the episode. A path formula `φ U<=k ψ` stops at
ψ ∨ ¬φ with g = [ψ], r = 0, β = 1 (finite) or γ; `F ψ` is `true U ψ`; `G φ` is the complement
1 − P(true U ¬φ). Non-absorbing labels are therefore handled correctly: the formula is decided
at the first visit of a stop state, whatever the episode does afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.formula import (
    And,
    Atom,
    Constraint,
    Label,
    Not,
    Or,
    ProbabilityConstraint,
    RewardConstraint,
    StateFormula,
    Truth,
    reach_avoid,
)
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective

__all__ = ["Quantity", "constraint_quantity", "objective_quantity", "state_mask"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Quantity:
    """A value function of the episode in Bellman form (see the module docstring).

    Attributes
    ----------
    reward
        r(s, a) per choice.
    beta, eta
        The weight of the successor's value and of its stop value.
    stop, stop_value
        The stop states and g ∈ {0, 1} on them (``stop_value`` is False outside ``stop``).
    steps
        L, the number of steps of a bounded recursion, or ``None`` for the fixed point.
    complement
        The reported number is 1 − W (for ``G``).
    description
        Words for reports.
    """

    reward: Rationals
    beta: Fraction
    eta: Fraction
    stop: BoolArray
    stop_value: BoolArray
    steps: int | None
    complement: bool = False
    description: str = ""

    @property
    def has_stops(self) -> bool:
        return bool(self.stop.any())


def _bound(objective: Objective, k: int | None) -> int | None:
    """The number of steps L of a bounded recursion, or None for the geometric fixed point."""
    if objective.horizon is None:
        return k
    return objective.horizon if k is None else min(k, objective.horizon)


def _weights(objective: Objective, discounted: bool) -> tuple[Fraction, Fraction]:
    if objective.horizon is None:
        return objective.discount, 1 - objective.discount
    return (objective.discount if discounted else Fraction(1)), Fraction(0)


def objective_quantity(mdp: Mdp, objective: Objective) -> Quantity:
    """J of SPEC §2 as a `Quantity`."""
    beta, eta = _weights(objective, discounted=True)
    none = np.zeros(mdp.n_states, dtype=bool)
    return Quantity(mdp.rewards[objective.reward], beta, eta, none, none, _bound(objective, None),
                    description=f"J = {objective}")


def constraint_quantity(mdp: Mdp, objective: Objective, constraint: Constraint) -> Quantity:
    """The quantity a constraint of Φ bounds, on the episode of `objective`'s horizon."""
    beta, eta = _weights(objective, discounted=False)
    if isinstance(constraint, RewardConstraint):
        none = np.zeros(mdp.n_states, dtype=bool)
        return Quantity(mdp.rewards[constraint.reward], beta, eta, none, none,
                        _bound(objective, constraint.bound), description=str(constraint))
    assert isinstance(constraint, ProbabilityConstraint)
    shape = reach_avoid(constraint.path)
    goal = state_mask(mdp, shape.stop)
    stop = goal | ~state_mask(mdp, shape.continue_)
    return Quantity(Rationals.zeros(mdp.n_choices), beta, eta, stop, goal,
                    _bound(objective, shape.bound), complement=shape.negated,
                    description=str(constraint))


def state_mask(mdp: Mdp, formula: StateFormula) -> BoolArray:
    """The states satisfying a state formula (labels must exist in the model)."""
    if isinstance(formula, Label):
        return np.asarray(mdp.labels[formula.name], dtype=bool)
    if isinstance(formula, Truth):
        return np.full(mdp.n_states, formula.value, dtype=bool)
    if isinstance(formula, Not):
        return ~state_mask(mdp, formula.operand)
    if isinstance(formula, And):
        return state_mask(mdp, formula.left) & state_mask(mdp, formula.right)
    if isinstance(formula, Or):
        return state_mask(mdp, formula.left) | state_mask(mdp, formula.right)
    if isinstance(formula, Atom):   # the translation adds a label per atom, named by its text
        if str(formula) not in mdp.labels:
            raise KeyError(f"the model has no label for the atom {formula}")
        return np.asarray(mdp.labels[str(formula)], dtype=bool)
    raise TypeError(f"not a state formula: {formula!r}")

