"""Φ evaluated directly under a fixed policy: a sound float enclosure of each constraint's value.

TRUSTED. A composition certificate reports, for each constraint of Φ, its value under π₀; a
``refuted`` composition rests on one of them being violated for certain. The kernel encloses
each value itself, with interval arithmetic over the episode semantics (`proofs.kernel.episode`):

    W(s) = g(s)                                                  on stop states
    W(s) = Σ_a π(a|s)·( r(s,a) + Σ_s' P(s'|s,a)·(β·W(s') + η·g(s')·[s' stops]) )   elsewhere

Soundness. Every number of the model is enclosed by `Rationals.enclosure`; `kernel.rounding`'s
interval operations return intervals that contain the exact result of exact inputs in them
(products of a non-negative interval, sums with their rounding error, one ulp outward). So, by
induction over the steps, each step's interval vector contains the exact W of that step.
- Bounded (L steps): L steps from W_L = g·[stop]; the enclosure at μ₀ contains the value.
- Geometric fixed point (β < 1): the exact W* lies in [−M, M] with M = (max|r| + 1)/(1 − β) + 1
  (|W*| ≤ max|r|/(1−β) + 1, g ≤ 1, η ≤ 1). The update maps any interval vector containing W* to
  one containing T W* = W*, so every iterate does; intersecting keeps the tightest. The
  iteration stops when the constraint is decided and the enclosure narrow, or after a fixed
  number of steps: a wide enclosure is still sound, it only decides less.
States the policy leaves undefined get the value 0: the kernel has checked (`check_policy`'s
`check_defined`) that the policy never reaches them at that step, so they carry no weight.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective
from proofs.core.policy import Policy, PolicyLayer
from proofs.kernel import rounding as iv
from proofs.kernel.episode import Quantity, constraint_quantity

__all__ = ["evaluate_constraint"]

F = npt.NDArray[np.float64]
_MAX_ITERATIONS = 20_000
_NARROW = 1e-12


def _number(x: Fraction) -> tuple[float, float]:
    lo, hi = Rationals.from_fractions([x]).enclosure()
    return float(lo[0]), float(hi[0])


class _Pass:
    """One application of the policy's update on interval vectors."""

    def __init__(self, mdp: Mdp, q: Quantity) -> None:
        if mdp.probability is None:
            raise CheckFailure("direct evaluation step: a credal model's direct evaluation is not supported")
        self.mdp, self.q = mdp, q
        self.p_lo, self.p_hi = mdp.probability.enclosure()
        self.r_lo, self.r_hi = q.reward.enclosure()
        self.beta = _number(q.beta)
        g = (q.stop & q.stop_value).astype(np.float64)
        eta_lo, eta_hi = _number(q.eta)
        self.stop_term = (g * eta_lo, g * eta_hi)           # η·g(s')·[s' stops], exact when η = 0
        self.goal = g

    def choices(self, lo: F, hi: F) -> tuple[F, F]:
        """r(s,a) + Σ P·(β·W + η·g) for every choice."""
        mdp = self.mdp
        s_lo, s_hi = iv.scale_nonneg(*self.beta, lo, hi)
        s_lo, s_hi = iv.add(s_lo, s_hi, *self.stop_term)
        t_lo, t_hi = iv.mul_nonneg(self.p_lo, self.p_hi, s_lo[mdp.target], s_hi[mdp.target])
        e_lo, e_hi = iv.segment_sum(t_lo, t_hi, mdp.row_start)
        return iv.add(e_lo, e_hi, self.r_lo, self.r_hi)

    def apply(self, layer: PolicyLayer, lo: F, hi: F) -> tuple[F, F]:
        c_lo, c_hi = self.choices(lo, hi)
        w_lo, w_hi = layer.probability.enclosure()
        m_lo, m_hi = iv.mul_nonneg(w_lo, w_hi, c_lo[layer.choice], c_hi[layer.choice])
        n_lo, n_hi = iv.segment_sum(m_lo, m_hi, layer.start)
        stop = self.q.stop
        return np.where(stop, self.goal, n_lo), np.where(stop, self.goal, n_hi)

    def at_initial(self, lo: F, hi: F) -> Enclosure:
        mdp = self.mdp
        mu_lo, mu_hi = mdp.initial_probability.enclosure()
        t_lo, t_hi = iv.mul_nonneg(mu_lo, mu_hi, lo[mdp.initial_states], hi[mdp.initial_states])
        s_lo, s_hi = iv.segment_sum(t_lo, t_hi, np.array([0, len(t_lo)], dtype=np.int64))
        return Enclosure(Fraction(float(s_lo[0])), Fraction(float(s_hi[0])))


def evaluate_constraint(mdp: Mdp, objective: Objective, policy: Policy, constraint: Constraint) -> Enclosure:
    """A sound enclosure of the constraint's value under ``policy`` (its reported number: 1 − W for G)."""
    q = constraint_quantity(mdp, objective, constraint)
    op = _Pass(mdp, q)
    n = mdp.n_states
    if q.steps is not None:
        lo = hi = op.goal.copy()
        for t in reversed(range(q.steps)):
            lo, hi = op.apply(policy.at(t), lo, hi)
    else:
        lo, hi = _fixed_point(op, policy.layers[-1], constraint, q, n)
        for layer in reversed(policy.layers[:-1]):
            lo, hi = op.apply(layer, lo, hi)
    value = op.at_initial(lo, hi)
    return value.complement() if q.complement else value


def _fixed_point(op: _Pass, layer: PolicyLayer, constraint: Constraint, q: Quantity, n: int) -> tuple[F, F]:
    beta = float(op.beta[1])
    if not beta < 1:
        raise CheckFailure("direct evaluation step: an unbounded evaluation needs β < 1")
    top = float(np.max(np.maximum(np.abs(op.r_lo), np.abs(op.r_hi)), initial=0.0))
    bound = math.nextafter((top + 1.0) / (1.0 - beta) * (1 + 1e-9) + 1.0, math.inf)
    lo, hi = np.full(n, -bound), np.full(n, bound)
    for _ in range(_MAX_ITERATIONS):
        new_lo, new_hi = op.apply(layer, lo, hi)
        lo, hi = np.maximum(lo, new_lo), np.minimum(hi, new_hi)
        value = op.at_initial(lo, hi)
        if q.complement:
            value = value.complement()
        narrow = float(value.width) <= _NARROW * max(1.0, abs(float(value.hi)))
        if narrow or (constraint.comparison.decide(value.lo, value.hi, constraint.threshold) is not None
                      and float(value.width) <= 1e-9):
            break
    return lo, hi
