"""The checker of float alignment certificates: large models, finite horizon.

TRUSTED. The same lemma and the same two witnesses as `proofs.kernel.check_alignment` (read its
docstring first), checked in float arithmetic with a proved error instead of `Fraction`s:

* The model is first cut to what an episode of H steps can see (`proofs.kernel.horizon`, which
  changes no value). Everything below is on that restricted model; its states are numbered in
  their original order, and the witness says how many there are.
* J*: V*_t (relative to step t, so V*_t = max_a r + d·P·V*_{t+1}, V*_H = 0) as float centres
  with proved offsets, one `FloatBellman` pass per step (`proofs.kernel.bellman`). J* lies in
  the enclosure at μ₀.
* Upper bound for a multiplier λ ≥ 0: the combined recursion W_t of the exact checker (finite
  horizon), of which only an upper bound is needed. The choice values are computed as σ·Q̂_c(σ·Ŵ) + fl(fl(λ·d^t)·r̂), where Q̂_c is
  `FloatBellman`'s operator for the reward c with β = 1 (Q_c(σW) = c + σ·P·W, σ = ±1, negation is
  exact); its error e_Q is proved there; the error of the product fl(ℓ̂·r̂) with ℓ = λ·d^t ≥ 0
  (ℓ̂ = fl(ℓ), r̂ the converted rewards) and of the final addition are F1 of
  `proofs.kernel.rounding` (`product_error`, `addition_error`), the one error model, with the
  rewards' conversion error from F2. The max over choices is exact and the operator is monotone
  with T(W + k·1) = T(W) + k (rows sum to exactly 1), so the uniform offset ``up`` carries over
  from step to step plus the step's error. Stop entries get their own error (the same product and
  addition bounds, plus ℓ times V*_t's upper offset); the uniform offset is the larger of the two.
  Then G(λ) ≤ μ₀·Ŵ_0 + up, and the worst value is at most κ + G(λ) − λ·(J*_lo − ε) in Q-space.
* Lower bound, ``attained``: a start mixture (exact rational weights ≥ 0 summing to 1) of
  deterministic step tables (an ``.npz`` array, one row per step t < L, one column per state of
  the restricted model, the local index of the action, optionally delta-encoded along the steps
  or written as the changes from one step to the next, `_step_rows`; entries at stop states are
  ignored and every other entry must name an action; read one step at a time, so memory does not
  grow with L), followed by a J-optimal policy once the constraint is
  decided. Each component's J (relative to the step, with V*_t at stop states) and W_c are two
  policy evaluations with `FloatBellman` on the chosen rows, carried as enclosures (both
  offsets). The mixture must be ε-optimal for the true J*, so J(mix)_lo ≥ J*_hi − ε is required.

* Long horizons, ``tail`` K (1 ≤ K ≤ H − 2; undiscounted, every constraint judged over the
  whole episode, step tables in the ``"changes"`` encoding with no change before step H − K − 1):
  every recursion above runs only its last K + 1 steps, from t = H − 1 to H − K − 1, and the
  earlier steps are bounded by a slope (`Slope`). For a monotone recursion v_{j+1} = T(v_j) (j
  steps to go) with T(x + c·1) = T(x) + c and linear part P: if h ≥ v_K, T(h) ≤ h + g + δ·1 and
  P(c)·g ≤ g(s) + η for every checked choice c of s, then v_{K+j} ≤ h + j·(g + δ) + j(j−1)/2·η
  (induction: T(h + j·g + e) ≤ T(h) + j·max_c P(c)·g + e). h is the upper enclosure of step
  H − K, g + δ the difference to that of step H − K − 1 (rounded up: exact ≤ nextafter of the
  float difference), η the largest P(c)·g − g(s), from the kernel's operator with zero rewards
  and its error. J*: every choice (upper bound) and, negated, the argmax policy σ at step
  H − K − 1 (lower bound: T ≥ T_σ). The combined recursion: the choices of the non-stop states;
  at a stop state the value is σ·g + λ·V*, so there g + δ ≥ λ·(g_U + δ_U) and η ≥ λ·η_U, with
  U J*'s slope (by induction over the pair (W, V*)). A component: its table at step H − K − 1
  (the same at every earlier step), both sides, J linked to V*'s slopes with λ = 1, W_c with its
  constant goal at stop states. The enclosures at t = 0 are the slopes at j = H − K.

* Credal models (no tail): as the exact checker (its "credal models"), with the float operators of
  `proofs.kernel.bellman.Nature`: J* with nature minimising J, and V*_co with nature maximising it
  (the continuation of G_co after c is decided); the upper bound's recursion with nature
  maximising σ·Q_c(σ·W) + λ·J's rewards (σ·Q_c(σ·W) = σ·c + P·W: the maximum of P·W, from the
  minimum of P·(−W) when σ = 1); the attained mixture's J per component under its own worst
  nature, and W_c of every component under one nature, greedy for the highest σ·Σ_i q_i·W_i
  first (`_credal_mixture`): any distribution within the intervals is a nature, and a fixed
  nature's recursion is monotone with T(W + k·1) = T(W) + k, so the offsets carry over.

The verdict rules are the exact checker's (`check_verdict`, on the hard side of every enclosure).
Geometric horizons are not checked here (rejected as such). The upper bounds are computed on a
second thread while the mixtures are evaluated: independent computations on their own arrays,
the same floats as in sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs.core.certificates import AlignmentBody, Component, FloatAlignmentWitness, FloatComponent, Mixture
from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.formula import Constraint, ProbabilityConstraint
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective
from proofs.kernel.bellman import Bound, FloatBellman, Selection, at_initial, magnitude, step
from proofs.kernel.check_alignment import check_verdict, constraint_rows, drifts, mixture_parts, orientation
from proofs.kernel.episode import constraint_quantity
from proofs.kernel.horizon import restrict
from proofs.kernel.rounding import addition_error, product_error, round_up

__all__ = ["FloatSpace", "OptimalJ", "check_float_alignment", "decode_step_tables", "float_space", "mixture_values",
           "slope", "tail_enclosure", "upper_bound"]

F = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _scaled(values: F, scale: Fraction, value_error: Fraction = Fraction(0)) -> tuple[F, Fraction]:
    """fl(fl(scale)·values) for scale ≥ 0, with the error bound of `_scale_error`."""
    out: F = np.multiply(values, float(scale))
    return out, _scale_error(magnitude(values), scale, value_error)


def _scale_error(top: Fraction, scale: Fraction, value_error: Fraction = Fraction(0)) -> Fraction:
    """|fl(fl(scale)·v) − scale·x| for floats |v| ≤ ``top`` within ``value_error`` of the exact x
    (`proofs.kernel.rounding.product_error`; fl(scale) is correctly rounded)."""
    return round_up(product_error(scale, abs(Fraction(float(scale)) - scale), top, value_error))


def _added(a: F, b: F, error: Fraction) -> tuple[F, Fraction]:
    """fl(a + b) and its error: the operands' ``error`` plus one rounding."""
    out: F = np.add(a, b)
    return out, round_up(error + addition_error(magnitude(out)))


@dataclass(frozen=True, eq=False)
class Slope:
    """v_{K+j} ≤ centre + offset + j·(g + δ) + j(j−1)/2·η for every j ≥ 0 (module docstring: long
    horizons); a lower bound is the slope of −v."""

    centre: F
    offset: Fraction
    g: F
    delta: Fraction
    eta: Fraction

    def at_initial(self, mdp: Mdp, j: int) -> Fraction:
        """The bound on μ₀·v_{K+j}, exact in rationals."""
        total = Fraction(0)
        for s, p in mdp.initial_distribution():
            total += p * (Fraction(self.centre[s]) + j * Fraction(self.g[s]))
        return total + self.offset + j * self.delta + Fraction(j * (j - 1), 2) * self.eta


def slope(zero: FloatBellman, c0: F, off0: Fraction, c1: F, off1: Fraction, rows: Selection | None,
           stop: IntArray, j: int, link: tuple[Slope, Fraction] | None = None) -> Slope:
    """The slope from h = c0 + off0 with T(h) ≤ c1 + off1, η over the choices of the non-stop
    states in ``rows`` (every choice when None); ``link`` (U, λ): the value at stop states is
    λ·U plus a constant (module docstring). ``zero`` is the kernel's operator with zero rewards.

    Of two sound slopes, the one with the smaller bound at μ₀ after ``j`` steps: g itself, and
    its maximum as a constant (P·g = g up to rounding, where the float noise of g, times the
    j²/2 of η, would otherwise dominate when every state has the same gain)."""
    g = np.nextafter(c1 - c0, np.inf)
    delta, eta = max(off1 - off0, Fraction(0)), Fraction(0)
    if link is not None and len(stop):
        other, scale = link
        scaled, err = _scaled(other.g[stop], scale)
        g[stop] = np.maximum(g[stop], scaled)
        delta, eta = max(delta, round_up(scale * other.delta + err)), scale * other.eta
    owner = zero.mdp.choice_state if rows is None else zero.mdp.choice_state[rows.choices]
    free = np.ones(zero.mdp.n_states, dtype=np.bool_)
    free[stop] = False
    checked = free[owner]

    def with_drift(g: F) -> Slope:
        q, err = zero.choice_values(g) if rows is None else zero.selected_values(g, rows)
        if not np.any(checked):
            return Slope(c0, off0, g, delta, eta)
        drift = float(np.nextafter(np.max(q[checked] - g[owner[checked]]), np.inf))
        return Slope(c0, off0, g, delta, max(eta, round_up(Fraction(drift) + err)))

    return min((with_drift(g), with_drift(np.full_like(g, g.max()))),
               key=lambda slope: slope.at_initial(zero.mdp, j))


def tail_enclosure(mdp: Mdp, upper: Slope, lower: Slope, j: int) -> Enclosure:
    """The enclosure at j steps past K from an upper slope and the slope of the negated value."""
    return Enclosure(-lower.at_initial(mdp, j), upper.at_initial(mdp, j))


class OptimalJ:
    """V*_t's enclosures (relative to step t) on the restricted model: at the given stop states for
    every t, and at every state for the steps in ``full``.

    ``bellman`` makes the float operators (a reward and β in, a `FloatBellman` on ``mdp`` out); the
    kernel's own by default. An engine may pass faster ones that compute the same floats
    (`proofs.operators`): the bounds below hold for any operator with the kernel's error analysis,
    and the kernel, checking, always builds its own.
    """

    def __init__(self, mdp: Mdp, objective: Objective, stops: npt.NDArray[np.bool_], full: set[int],
                 bellman: Callable[[Rationals, Fraction], FloatBellman] | None = None,
                 tail: int | None = None) -> None:
        assert objective.horizon is not None
        self.mdp, self.horizon, self.discount, self.stops = mdp, objective.horizon, objective.discount, stops
        self.bellman = bellman if bellman is not None else lambda reward, beta: FloatBellman(mdp, reward, beta)
        self.op = self.bellman(mdp.rewards[objective.reward], objective.discount)
        self._constraint_ops: dict[int, FloatBellman] = {}
        bound = Bound(np.zeros(mdp.n_states), Fraction(0), Fraction(0))
        self.at_stops: dict[int, Bound[F]] = {}
        self.full: dict[int, Bound[F]] = {}
        self.tail, self.first = tail, 0 if tail is None else self.horizon - tail - 1   # the first explicit step
        if tail is not None:
            if mdp.is_credal:
                raise CheckFailure("witness step: a tail needs a point model")
            self.zero = FloatBellman(mdp, Rationals.zeros(mdp.n_choices), Fraction(1))
        self.co_at_stops, self.co_full = self.at_stops, self.full   # V* with nature cooperating
        if mdp.is_credal:
            self.co_at_stops, self.co_full = {}, {}
            co, op_co = bound, FloatBellman(mdp, mdp.rewards[objective.reward], objective.discount, highest=True)
            for t in reversed(range(self.horizon + 1)):
                if t < self.horizon:
                    co = step(*op_co.optimal(co.centre), self.discount, co)
                self.co_at_stops[t] = Bound(co.centre[stops], co.down, co.up)
                if t in full:
                    self.co_full[t] = co
        for t in reversed(range(self.first, self.horizon + 1)):
            if t == self.first and tail is not None:
                bound = self._tail_step(bound)
            elif t < self.horizon:
                bound = step(*self.op.optimal(bound.centre), self.discount, bound)
            self.at_stops[t] = Bound(bound.centre[stops], bound.down, bound.up)
            if t in full:
                self.full[t] = bound
        self.j_star = at_initial(mdp, bound) if tail is None else \
            tail_enclosure(mdp, self.upper, self.lower, self.horizon - tail)

    def _tail_step(self, at_k: Bound[F]) -> Bound[F]:
        """Step H − K − 1 with J*'s slopes (module docstring): every choice above, the float
        argmax σ below."""
        zero, start = self.zero, self.mdp.choice_start
        q, err = FloatBellman.choice_values(self.op, at_k.centre)
        best = np.maximum.reduceat(q, start[:-1])
        index = np.arange(len(q))
        sigma = np.minimum.reduceat(np.where(q == np.repeat(best, np.diff(start)), index, len(q)), start[:-1])
        out = step(best, err, Fraction(1), at_k)
        none = np.zeros(0, dtype=np.int64)
        j = self.first + 1   # steps from K to the episode's start
        self.upper = slope(zero, at_k.centre, at_k.up, best, out.up, None, none, j)
        self.lower = slope(zero, -at_k.centre, at_k.down, -q[sigma], out.down, zero.select(sigma), none, j)
        return out

    def constraint_op(self, cs: FloatSpace) -> FloatBellman:
        """The operator of the constraint's reward (β = 1), built once per constraint; on a credal
        model with nature maximising σ·Q_c(σ·W), as `upper_bound` needs (`_evaluate` names its own)."""
        op = self._constraint_ops.get(id(cs))
        if op is None:   # two threads may both build it: the same operator either way, one is kept
            op = self._constraint_ops.setdefault(id(cs), FloatBellman(
                self.mdp, cs.reward, Fraction(1), highest=cs.sigma > 0) if self.mdp.is_credal
                else self.bellman(cs.reward, Fraction(1)))
        return op


@dataclass(frozen=True, eq=False)
class FloatSpace:
    """A constraint as a maximisation Q = σ·W + κ (see `proofs.kernel.check_alignment`), floats."""

    constraint: Constraint
    sigma: int
    kappa: int
    rho: int
    steps: int
    stop: npt.NDArray[np.bool_]
    goal: F                      # g(s) at stop states, 0 elsewhere
    reward: Rationals
    complement: bool
    probability: bool = False    # a P constraint: its value lies in [0, 1]

    def reported(self, q: Fraction) -> Fraction:
        """The dual bound on the worst value. A probability's is cut to [0, 1]: sound, since the
        worst value is itself a probability (an upper bound above 1, or a lower bound below 0,
        says nothing more)."""
        bound = self.rho * q
        return min(max(bound, Fraction(0)), Fraction(1)) if self.probability else bound

    def value_of(self, w: Enclosure) -> Enclosure:
        value = w.complement() if self.complement else w
        return value.within(0, 1) if self.probability else value


def float_space(mdp: Mdp, objective: Objective, constraint: Constraint) -> FloatSpace:
    q = constraint_quantity(mdp, objective, constraint)
    if q.steps is None:
        raise CheckFailure("kernel step: float alignment certificates need a finite horizon")
    stop = np.asarray(q.stop, dtype=np.bool_)
    goal = np.where(stop & np.asarray(q.stop_value, dtype=np.bool_), 1.0, 0.0)
    return FloatSpace(constraint, *orientation(constraint, q.complement), q.steps, stop, goal, q.reward, q.complement,
                      isinstance(constraint, ProbabilityConstraint))


def _j_at(opt: OptimalJ, t: int, co: bool = False) -> Bound[F]:
    kept = opt.co_full if co else opt.full
    if t not in kept:
        raise CheckFailure(f"kernel step: V*_{t} was not kept")  # an internal inconsistency, never expected
    return kept[t]


def upper_bound(mdp: Mdp, opt: OptimalJ, cs: FloatSpace, lam: Fraction) -> Enclosure:
    """An upper bound on G(λ) = max over all policies of σ·W_c + λ·J (module docstring); as [hi, hi]."""
    op_c = opt.constraint_op(cs)
    d = opt.discount
    stop_index = np.flatnonzero(cs.stop)
    where = np.flatnonzero(opt.stops)
    slot = np.searchsorted(where, stop_index)

    def stop_values(t: int, v: Bound[F]) -> tuple[F, Fraction]:
        scaled, err = _scaled(v.centre[slot], lam * d**t)
        values, err = _added(cs.sigma * cs.goal[stop_index], scaled, err)
        return values, round_up(err + lam * d**t * v.up)

    last = _j_at(opt, cs.steps, co=True)
    w, err = _scaled(last.centre, lam * d**cs.steps)
    w, err = _added(cs.sigma * cs.goal, w, err)
    up = round_up(err + lam * d**cs.steps * last.up)
    before = (w, up)
    for t in reversed(range(opt.first, cs.steps)):
        before, scale, signed = (w, up), lam * d**t, cs.sigma * w
        w, top = op_c.optimal_plus(signed, cs.sigma, opt.op, float(scale))   # |sums| ≤ top over all choices
        e_q = op_c.choice_error(magnitude(signed))
        e_s = _scale_error(opt.op.reward_max, scale, opt.op.reward_error)
        up = round_up(up + e_q + e_s + addition_error(top))
        if len(stop_index):
            values, e_stop = stop_values(t, opt.co_at_stops[t])
            w[stop_index] = values
            up = max(up, e_stop)
    if opt.tail is not None:
        j = opt.horizon - opt.tail
        hi = slope(opt.zero, *before, w, up, None, stop_index, j, (opt.upper, lam)).at_initial(mdp, j)
        return Enclosure(hi, hi)
    total = at_initial(mdp, Bound(w, Fraction(0), up))
    return Enclosure(total.hi, total.hi)


def _step_rows(stored: npt.NDArray[np.integer], encoding: Any, shape: tuple[int, int],
               where: str, first: int = 0) -> Iterator[tuple[int, IntArray]]:
    """(t, table[t]) for t = L−1 … ``first`` of (L, n) tables, one reused int64 row: ``"plain"``, ``"delta"``
    (row t holds table[t] − table[t+1], the last row the table itself) or ``"changes"`` (rows
    (t, s, a) by non-increasing t: table[t] is table[t+1] with a at state s, table[L] all zeros;
    memory as the policy's changes, not L·n)."""
    steps, n = shape
    if encoding not in ("plain", "delta", "changes"):
        raise CheckFailure(f"{where}: unknown step-table encoding {encoding!r}")
    if encoding != "changes" and stored.shape != shape:
        raise CheckFailure(f"{where}: the step tables must be integers of shape {shape}")
    changes = stored.astype(np.int64) if encoding == "changes" else stored   # no unsigned wrap-around
    if encoding == "changes" and not (changes.ndim == 2 and changes.shape[1] == 3 and np.all(np.diff(changes[:, 0]) <= 0)
                                      and np.all((changes[:, :2] >= 0) & (changes[:, :2] < (steps, n)))):
        raise CheckFailure(f"{where}: the changes must be rows (step < {steps}, state < {n}, action) by "
                           "non-increasing step")
    row = np.zeros(n, dtype=np.int64)
    if encoding == "changes":
        lo, hi = (np.searchsorted(-changes[:, 0], -np.arange(first, steps), side) for side in ("left", "right"))
    for t in reversed(range(first, steps)):
        if encoding == "changes":
            row[changes[lo[t - first]:hi[t - first], 1]] = changes[lo[t - first]:hi[t - first], 2]
        elif encoding == "delta":
            np.add(row, stored[t], out=row)
        else:
            row = stored[t].astype(np.int64)
        yield t, row


def decode_step_tables(stored: npt.NDArray[np.integer], encoding: Any, shape: tuple[int, int],
                       where: str) -> npt.NDArray[np.integer]:
    """The (L, n) step tables as stored (`_step_rows`), one int64 row per step."""
    out = np.empty(shape, dtype=np.int64)
    for t, row in _step_rows(stored, encoding, shape, where):
        out[t] = row
    return out


def _local_rows(arrays: Mapping[str, np.ndarray] | None, comp: Component, mdp: Mdp, cs: FloatSpace,
                where: str, first: int = 0) -> Iterator[tuple[int, IntArray]]:
    """A component's step tables from the last step down to ``first``, one validated row at a
    time: local action indices (stop states: 0, unused). With ``first`` > 0, the tables of the
    earlier steps must be that of ``first`` (the ``"changes"`` encoding, no change before it)."""
    name = comp.step_tables if isinstance(comp, FloatComponent) else None
    if arrays is None or name is None or name not in arrays:
        raise CheckFailure(f"{where}: the step tables {name!r} are not in the witness file")
    assert isinstance(comp, FloatComponent)
    stored = np.asarray(arrays[name])
    if stored.dtype.kind not in "iu":
        raise CheckFailure(f"{where}: the step tables must be integers")
    if first and (comp.encoding != "changes" or (stored.ndim == 2 and len(stored) and stored[:, 0].min() < first)):
        raise CheckFailure(f"{where}: with a tail, the step tables must be changes, none before step {first}")
    counts = np.diff(mdp.choice_start)
    for t, row in _step_rows(stored, comp.encoding or "plain", (cs.steps, mdp.n_states), where, first):
        picked = np.where(cs.stop, 0, row)
        bad = np.flatnonzero((picked < 0) | (picked >= counts))
        if len(bad):
            raise CheckFailure(f"{where}: step {t} names no action of state {mdp.states[bad[0]]!r}")
        yield t, picked


def _evaluate(mdp: Mdp, opt: OptimalJ, cs: FloatSpace, rows: Iterator[tuple[int, IntArray]]) -> tuple[Enclosure, Enclosure]:
    """(J, W_c) enclosures of one component: the tables while undecided, J-optimal after."""
    op_j, op_c = opt.op, opt.constraint_op(cs)
    d = opt.discount
    stop_index = np.flatnonzero(cs.stop)
    slot = np.searchsorted(np.flatnonzero(opt.stops), stop_index)
    y = _j_at(opt, cs.steps)
    x = Bound(cs.goal.copy(), Fraction(0), Fraction(0))
    before = (y, x)
    for t, local in rows:   # t = L−1 … 0 (… opt.first with a tail)
        before, chosen = (y, x), op_j.select(mdp.choice_start[:-1] + local)   # the same rows for both passes
        y = step(*op_j.selected_values(y.centre, chosen), d, y)
        x = step(*op_c.selected_values(x.centre, chosen), Fraction(1), x)
        if len(stop_index):
            at = opt.at_stops[t]
            y.centre[stop_index] = at.centre[slot]
            y = Bound(y.centre, max(y.down, at.down), max(y.up, at.up))
            x.centre[stop_index] = cs.goal[stop_index]
    if opt.tail is not None:
        (y0, x0), z, j = before, opt.zero, opt.horizon - opt.tail
        picked = z.select(mdp.choice_start[:-1] + local)

        def tail(a: Bound[F], b: Bound[F], up: tuple[Slope, Fraction] | None,
                 down: tuple[Slope, Fraction] | None) -> Enclosure:
            return tail_enclosure(mdp, slope(z, a.centre, a.up, b.centre, b.up, picked, stop_index, j, up),
                                   slope(z, -a.centre, a.down, -b.centre, b.down, picked, stop_index, j, down), j)

        return tail(y0, y, (opt.upper, Fraction(1)), (opt.lower, Fraction(1))), tail(x0, x, None, None)
    return at_initial(mdp, y), at_initial(mdp, x)


Evaluated = dict[tuple[int, str, str], tuple[Enclosure, Enclosure]]


def mixture_values(mdp: Mdp, opt: OptimalJ, cs: FloatSpace, mixture: Mixture, arrays: Mapping[str, np.ndarray] | None,
                   where: str, evaluated: Evaluated | None = None) -> tuple[Enclosure, Enclosure]:
    """Enclosures of (J, reported value of the constraint) of a start mixture.

    ``evaluated`` keeps each component's enclosures by its step tables' name, so that a
    component named twice (the counterexample is usually a constraint's attained mixture) is
    evaluated once: the enclosures depend on nothing but the constraint and the tables."""
    if mdp.is_credal:
        return _credal_mixture(mdp, opt, cs, mixture, arrays, where)
    j = w = Enclosure.exact(0)
    evaluated = {} if evaluated is None else evaluated
    for q, comp, at in mixture_parts(mixture, where):
        key = (id(cs), str(getattr(comp, "step_tables", None)), str(getattr(comp, "encoding", None) or "plain"))
        if key not in evaluated:
            evaluated[key] = _evaluate(mdp, opt, cs, _local_rows(arrays, comp, mdp, cs, at, opt.first))
        jc, wc = evaluated[key]
        j, w = j + jc.scale(q), w + wc.scale(q)
    return j, cs.value_of(w)


def _credal_mixture(mdp: Mdp, opt: OptimalJ, cs: FloatSpace, mixture: Mixture,
                    arrays: Mapping[str, np.ndarray] | None, where: str) -> tuple[Enclosure, Enclosure]:
    """Lower bounds on a credal model (`proofs.kernel.check_alignment._credal_mixture`, in floats):
    J per component against its own worst nature, W_c of every component under the one nature
    that puts mass on the highest σ·Σ_i q_i·W_i(t+1, ·) first at every (t, s, a)."""
    parts = [(q, _local_rows(arrays, comp, mdp, cs, at)) for q, comp, at in mixture_parts(mixture, where)]
    op_j, op_c, d = opt.op, FloatBellman(mdp, cs.reward, Fraction(1)), opt.discount
    stop_index = np.flatnonzero(cs.stop)
    slot = np.searchsorted(np.flatnonzero(opt.stops), stop_index)
    ys = [_j_at(opt, cs.steps)] * len(parts)
    xs = [Bound(cs.goal.copy(), Fraction(0), Fraction(0)) for _ in parts]
    for t in reversed(range(cs.steps)):
        key = np.zeros(mdp.n_states)   # nature minimises −σ·Σ q_i·W_i: the highest σ·W first
        for (q, _), x in zip(parts, xs):
            key -= cs.sigma * float(q) * x.centre
        for i, (_, rows) in enumerate(parts):
            step_t, local = next(rows)
            assert step_t == t
            chosen = op_j.select(mdp.choice_start[:-1] + local)
            y = step(*op_j.selected_values(ys[i].centre, chosen), d, ys[i])
            x = step(*op_c.selected_values(xs[i].centre, chosen, key), Fraction(1), xs[i])
            if len(stop_index):
                at = opt.at_stops[t]
                y.centre[stop_index], x.centre[stop_index] = at.centre[slot], cs.goal[stop_index]
                y = Bound(y.centre, max(y.down, at.down), max(y.up, at.up))
            ys[i], xs[i] = y, x
    j = w = Enclosure.exact(0)
    for (q, _), y, x in zip(parts, ys, xs):
        j, w = j + at_initial(mdp, y).scale(q), w + at_initial(mdp, x).scale(q)
    return j, cs.value_of(w)


def check_float_alignment(body: AlignmentBody, status: str, mdp: Mdp, objective: Objective, epsilon: Fraction,
                          constraints: Sequence[Constraint], arrays: Mapping[str, np.ndarray] | None) -> None:
    """Accept a float alignment certificate (its body, and its claimed ``status``) or raise
    `CheckFailure` naming the step and inequality.

    An ``unknown`` verdict claims nothing; its values (an enclosure straddling a threshold) are
    checked like those of a decided one, without the verdict's own rules.
    """
    witness = body.witness
    if witness is None:
        return
    if not isinstance(witness, FloatAlignmentWitness):
        raise CheckFailure("witness step: an exact witness is checked by check_alignment_certificate")
    if objective.horizon is None:
        raise CheckFailure("kernel step: float alignment certificates are checked for finite horizons only")
    small = restrict(mdp, objective.horizon)
    if witness.states != small.n_states:
        raise CheckFailure(f"witness step: the witness is for {witness.states} states, the horizon "
                           f"restriction has {small.n_states}")
    spaces = [float_space(small, objective, c) for c in constraints]
    stops = np.zeros(small.n_states, dtype=np.bool_)
    for cs in spaces:
        stops |= cs.stop
    tail = witness.tail
    if tail is not None and not (objective.discount == 1 and 1 <= tail <= objective.horizon - 2
                                 and all(cs.steps == objective.horizon for cs in spaces)):
        raise CheckFailure(f"witness step: a tail of {tail} steps needs an undiscounted J, 1 ≤ tail ≤ H − 2 and "
                           "every constraint judged over the whole episode")
    opt = OptimalJ(small, objective, stops, {cs.steps for cs in spaces}, tail=tail)
    evaluated: Evaluated = {}
    with ThreadPoolExecutor(1) as pool:   # the upper bounds, beside the mixtures' evaluations
        ahead = {(id(cs), lam): pool.submit(upper_bound, small, opt, cs, lam) for cs, lam in _multipliers(body, spaces)}
        check_verdict(body, status, spaces, opt.j_star, epsilon,
                      lambda cs, lam, wit, where: (ahead[id(cs), lam].result() if (id(cs), lam) in ahead
                                                   else upper_bound(small, opt, cs, lam)).hi,
                      lambda cs, mix, where: mixture_values(small, opt, cs, mix, arrays, where, evaluated), exact=False,
                      drift=None if body.values.eta is None else drifts(mdp, objective, constraints))


def _multipliers(body: AlignmentBody, spaces: Sequence[FloatSpace]) -> list[tuple[FloatSpace, Fraction]]:
    """Each constraint's multiplier λ ≥ 0, to compute its upper bound ahead (none when the rows are
    malformed: `check_verdict` then says so, in its order)."""
    try:
        rows = constraint_rows(body, [cs.constraint for cs in spaces])
    except CheckFailure:
        return []
    return [(cs, wit.lam) for cs, (_, wit) in zip(spaces, rows) if wit.lam >= 0]
