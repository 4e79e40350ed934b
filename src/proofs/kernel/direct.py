"""Φ evaluated directly under a fixed policy: a sound enclosure of each constraint's value.

TRUSTED. A composition certificate reports, for each constraint of Φ, its value under π₀; a
``refuted`` composition rests on one of them being violated for certain. The kernel encloses
each value itself, with interval arithmetic over the episode semantics (`proofs.kernel.episode`):

    W(s) = g(s)                                                  on stop states
    W(s) = Σ_a π(a|s)·( r(s,a) + Σ_s' P(s'|s,a)·(β·W(s') + η·g(s')·[s' stops]) )   elsewhere

Soundness. Every number of the model is enclosed by `Rationals.enclosure`; `kernel.rounding`'s
interval operations return intervals that contain the exact result of exact inputs in them
(products of a non-negative interval, sums with their rounding error, one ulp outward). So, by
induction over the steps, each step's interval vector contains the exact W of that step.
- Bounded (L steps): L steps from W_L = g·[stop]; the enclosure at μ₀ contains the value. With
  β = 1, one table and L > 4·`_TAIL`, only the last `_TAIL` + 1 steps, and slopes before them
  (`_sloped`).
- Geometric fixed point (β < 1): the exact W* lies in [−M, M] with M = (max|r| + 1)/(1 − β) + 1
  (|W*| ≤ max|r|/(1−β) + 1, g ≤ 1, η ≤ 1). The update maps any interval vector containing W* to
  one containing T W* = W*, so every iterate does; intersecting keeps the tightest. The
  iteration stops when the constraint is decided and the enclosure narrow, or after a fixed
  number of steps: a wide enclosure is still sound, it only decides less.
States the policy leaves undefined get the value 0: the kernel has checked (`check_policy`'s
`check_defined`) that the policy never reaches them at that step, so they carry no weight.

Credal models (`_credal`, exact `Fraction`s). Nature picks, at every step, state and action, a
distribution within the intervals, against Φ: it makes the reported number high for ``<=``/``<``
and low for ``>=``/``>``, so W itself the other way for ``G`` (whose number is 1 − W), as
`proofs.semantics.evaluate` does. ext below is that max or min over the row's intervals, exact
and certified by `bellman.worst_expectation` (a primal distribution and an equal dual bound), so
T is the exact robust operator (the intervals are (s, a)-rectangular, so choosing per step, state
and action is nature's worst over all its strategies):
    (T W)(s) = Σ_a π(a|s)·( r(s,a) + ext_{P ∈ 𝒫(s,a)} Σ_s' P(s')·(β·W(s') + η·g(s')·[s' stops]) ).
- Bounded: L exact steps of T from W_L = g·[stop]; the value at μ₀ is exact (a point enclosure).
- Geometric fixed point (β < 1): T is monotone and a β-contraction in the max norm (a max or min
  over distributions moves by at most the max change of W). For ANY vector V, ‖W* − V‖ ≤ ‖T V − V‖
  + β‖W* − V‖, so ‖W* − T V‖ ≤ β‖W* − V‖ ≤ e := β·‖T V − V‖/(1 − β), and W* ∈ [T V − e, T V + e]
  with T V computed exactly. V is only a guess (`_guess`: nature's policy iteration in floats), so
  soundness rests on T V and e alone; a poor guess gives a wide enclosure, which is still sound and
  only decides less. Earlier policy layers are applied to both ends (T is monotone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
from proofs.kernel.bellman import FloatBellman, ball_expectation, worst_expectation
from proofs.kernel.check_alignment_float import slope, tail_enclosure
from proofs.kernel.episode import Quantity, constraint_quantity

__all__ = ["ball_value", "evaluate_constraint"]

F = npt.NDArray[np.float64]
_MAX_ITERATIONS = 20_000
_TAIL = 256   # a long undiscounted episode of a stationary policy: its last steps, then a slope (`_sloped`)
_NARROW = 1e-12


def _number(x: Fraction) -> tuple[float, float]:
    lo, hi = Rationals.from_fractions([x]).enclosure()
    return float(lo[0]), float(hi[0])


class _Pass:
    """One application of the policy's update on interval vectors."""

    def __init__(self, mdp: Mdp, q: Quantity) -> None:
        assert mdp.probability is not None   # credal models: `_credal`
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
    """A sound enclosure of the constraint's value under ``policy`` (its reported number: 1 − W for G);
    on a credal model its worst case over nature, exactly when the horizon is finite."""
    if mdp.interval is not None:
        return _credal(mdp, objective, policy, constraint)
    q = constraint_quantity(mdp, objective, constraint)
    op = _Pass(mdp, q)
    n = mdp.n_states
    if q.steps is not None:
        lo = hi = op.goal.copy()
        tail = _TAIL if q.steps > 4 * _TAIL and len(policy.layers) == 1 and op.beta == (1.0, 1.0) else None
        before = (lo, hi)
        for t in reversed(range(0 if tail is None else q.steps - tail - 1, q.steps)):
            before, (lo, hi) = (lo, hi), op.apply(policy.at(t), lo, hi)
        if tail is not None:
            value = _sloped(mdp, policy.layers[0], q, before, (lo, hi), q.steps - tail)
            return value.complement() if q.complement else value
    else:
        lo, hi = _fixed_point(op, policy.layers[-1], constraint, q, n)
        for layer in reversed(policy.layers[:-1]):
            lo, hi = op.apply(layer, lo, hi)
    value = op.at_initial(lo, hi)
    return value.complement() if q.complement else value


def _sloped(mdp: Mdp, layer: PolicyLayer, q: Quantity, before: tuple[F, F], after: tuple[F, F], j: int) -> Enclosure:
    """W after j more steps of a stationary policy, from the intervals of the last two explicit
    steps: T(hi) ≤ hi' and T(lo) ≥ lo' (the exact T of a point within the intervals lands within
    the next ones), so the float alignment checker's slopes apply to hi and to −lo, over every
    choice the policy may take; W stays g at stop states."""
    zero = FloatBellman(mdp, Rationals.zeros(mdp.n_choices), Fraction(1))
    rows, stop, exact = zero.select(layer.choice[layer.probability.num != 0]), np.flatnonzero(q.stop), Fraction(0)
    (lo0, hi0), (lo1, hi1) = before, after   # interval ends: exact bounds, no offset to carry
    return tail_enclosure(mdp, slope(zero, hi0, exact, hi1, exact, rows, stop, j),
                          slope(zero, -lo0, exact, -lo1, exact, rows, stop, j), j)


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


def _credal(mdp: Mdp, objective: Objective, policy: Policy, constraint: Constraint) -> Enclosure:
    """The worst value over nature on a credal model, in `Fraction`s (module docstring)."""
    q = constraint_quantity(mdp, objective, constraint)
    high = constraint.comparison.is_upper != q.complement   # nature makes W high (for G: low)
    n, reward = mdp.n_states, q.reward.fractions()
    rows = [mdp.successor_intervals(c) for c in range(mdp.n_choices)]
    goal = [Fraction(int(q.stop[s] and q.stop_value[s])) for s in range(n)]

    def update(layer: PolicyLayer, w: list[Fraction]) -> list[Fraction]:
        after = [q.beta * w[s] + q.eta * goal[s] for s in range(n)]
        return [goal[s] if q.stop[s] else sum((p * (reward[c] + worst_expectation(rows[c], after, high))
                                               for c, p in layer.distribution(s)), Fraction(0)) for s in range(n)]

    if q.steps is not None:
        lo = hi = goal
        for t in reversed(range(q.steps)):
            lo = hi = update(policy.at(t), lo)
    else:
        if not q.beta < 1:
            raise CheckFailure("direct evaluation step: an unbounded evaluation needs β < 1")
        guess = _guess(q, policy.layers[-1], rows, reward, high)
        image = update(policy.layers[-1], guess)
        e = q.beta * max(abs(a - b) for a, b in zip(image, guess)) / (1 - q.beta)
        lo, hi = [x - e for x in image], [x + e for x in image]
        for layer in reversed(policy.layers[:-1]):
            lo, hi = update(layer, lo), update(layer, hi)
    start = mdp.initial_distribution()
    value = Enclosure(sum((p * lo[s] for s, p in start), Fraction(0)), sum((p * hi[s] for s, p in start), Fraction(0)))
    return value.complement() if q.complement else value


def ball_value(mdp: Mdp, objective: Objective, policy: Policy, constraint: Constraint, eta: Fraction,
               rows: Sequence[Mapping[int, Sequence[tuple[int, Fraction, Fraction]]]] | None = None) -> Fraction:
    """The constraint's reported value under ``policy`` on a point model at its worst over the
    environments within total variation η of the model at every step (mass to any state; nature
    against Φ, `ball_expectation`; where the table says nothing, the worst action), or with
    ``rows`` in that one environment (its rows per step by choice, the model's elsewhere);
    finite horizons, exactly."""
    q = constraint_quantity(mdp, objective, constraint)
    if q.steps is None or mdp.is_credal:
        raise CheckFailure("margin: eta is checked on point models with a finite horizon")
    high = constraint.comparison.is_upper != q.complement   # nature makes W high (for G: low)
    n, reward = mdp.n_states, q.reward.fractions()
    model = [[(t, p, p) for t, p in mdp.successors(c)] for c in range(mdp.n_choices)]
    goal = [Fraction(int(q.stop[s] and q.stop_value[s])) for s in range(n)]
    w, pick = goal, max if high else min
    for t in reversed(range(q.steps)):
        after = [q.beta * w[s] + q.eta * goal[s] for s in range(n)]
        env = {} if rows is None else rows[t]
        value = [reward[c] + (sum((p * after[x] for x, p, _ in env[c]), Fraction(0)) if c in env
                              else ball_expectation(model[c], after, eta, high)) for c in range(mdp.n_choices)]
        layer = policy.at(t)
        w = [goal[s] if q.stop[s] else sum((p * value[c] for c, p in layer.distribution(s)), Fraction(0))
             if layer.start[s + 1] > layer.start[s] else pick(value[c] for c in mdp.choices(s)) for s in range(n)]
    total = sum((p * w[s] for s, p in mdp.initial_distribution()), Fraction(0))
    return 1 - total if q.complement else total


def _guess(q: Quantity, layer: PolicyLayer, rows: list[list[tuple[int, Fraction, Fraction]]],
           reward: list[Fraction], high: bool) -> list[Fraction]:
    """A guess at the credal fixed point, in floats (its error is bounded exactly by the caller):
    nature's policy iteration, each round solving W = b + β·P·W for the greedy distributions."""
    n, beta, eta = len(q.stop), float(q.beta), float(q.eta)
    goal = (q.stop & q.stop_value).astype(np.float64)
    w = np.zeros(n)
    for _ in range(100 if n <= 2000 else 0):   # dense solves: a large model keeps the guess 0 (wide, sound)
        a, b, after = np.eye(n), goal.copy(), beta * w + eta * goal
        for s in np.flatnonzero(~q.stop):
            for c, p in layer.distribution(int(s)):
                b[s] += float(p * reward[c])
                free = 1 - sum((lo for _, lo, _ in rows[c]), Fraction(0))
                for t, lo, hi in sorted(rows[c], key=lambda e: float(after[e[0]]), reverse=high):
                    extra = max(Fraction(0), min(hi - lo, free))
                    free -= extra
                    a[s, t] -= float(p * (lo + extra)) * beta
                    b[s] += float(p * (lo + extra)) * eta * goal[t]
        old, w = w, np.linalg.solve(a, b).astype(np.float64)
        if np.array_equal(w, old):
            break
    return [Fraction(float(x)) for x in w]
