"""One-pass Bellman operators of the objective J on value vectors, exact or with a proved error.

TRUSTED. Used by `proofs.kernel.check_policy` and `proofs.kernel.check_alignment_float`. J has
no stop states (`proofs.kernel.episode.objective_quantity`), so its operators on a value vector
W are

    Q_W(c)     = r(c) + β · min_{P ∈ 𝒫(c)} Σ_s' P(s') W(s')      for every choice c,
    (T* W)(s)  = max over the choices c of s of Q_W(c),
    (T_π W)(s) = Σ_c π(c|s) · Q_W(c)                            where the layer π is defined,

with 𝒫(c) the single distribution of a point model or nature's interval set of a credal one
(nature minimises J). Both operators are monotone and satisfy T(W + k·1) = T(W) + β·k for every
constant k, because every distribution in 𝒫(c) and every π(·|s) sums to exactly 1. A `Bound`
(a centre vector with two scalar offsets) is therefore carried through T soundly by applying T
to the centre and multiplying the offsets by β, plus the arithmetic error of the centre.

Exact arithmetic (`ExactBellman`, `Fraction`s)
    A credal row's minimum comes from the classical greedy (mass to the lowest values first),
    which `worst_expectation` then certifies instead of trusting: the greedy distribution is
    checked to be feasible (so min ≤ its value) and the Lagrangian bound at the split value λ,
    λ + Σ_i min((v_i − λ)·lo_i, (v_i − λ)·hi_i), which is ≤ min for every λ (weak duality), is
    checked to equal it. The value is then the exact minimum.

Float arithmetic (`FloatBellman`, midpoint-radius)
    W is a float vector whose entries are the exact values bounded, M ≥ max|W|. A pass is plain
    numpy over the model's CSR arrays: ŷ = fl(β̂·W) (W itself when β = 1), the products p̂·ŷ of
    the transitions, their sum per choice in successor order, plus r̂; then the max over each
    state's choices (exact) or the policy's weighted sum per state. The sum is taken by successor
    position (`Positions`: the i-th successors of all choices at once, with exact zero terms
    p̂ = 0 past a choice's last successor, which change no sum) unless padding the choices to one
    length would cost more than `_PADDING` times their transitions; then by ``np.bincount`` in
    position order, `_PIECE` choices at a time. Either way each choice's sum is the same sequence
    of additions. The error of
    a choice value is F4 of `proofs.kernel.rounding` (the one error model) with b̃ = r̂ and
    x̃ = ŷ, plus the rewards' conversion error (F2):

        e_Q = |r̂ − r| + γ_{N+1}·(R + σ·M) + N·τ + D·M + ε_y,

    N the most successors of a choice, R = max|r̂|, σ and D from the rows being exact
    distributions (`Rows.distributions`), ε_y ≥ |ŷ − β·W| from F1 (0 when β = 1), and max|ŷ| ≤ M
    since β̂ ≤ 1 (F1, monotone rounding). A policy's mixture is F4 again, with b̃ = 0, x̃ = Q̂
    (|Q̂| ≤ Q_max) and |x̃ − x| ≤ e_Q. Probabilities and policy weights must convert to 0 or
    normal floats, and every float must stay finite, else the check is refused.

Credal rows in floats (`Nature`)
    The bounds are integers over one common denominator d (N·d < 2^53, else the check is
    refused). Per pass and choice, nature's greedy P gives every successor its lower bound and the
    free mass d − Σ lo to the cheapest first (in increasing order of (ŷ, position)), up to their
    upper bounds; successor i's share is what the successors before it leave, found by comparing
    it with each of them (N² comparisons per choice, no sorting): integer arithmetic, so P is an
    exact distribution within the intervals (Σ P = d, as Σ lo ≤ d ≤ Σ hi is checked). It
    minimises P·ŷ over the intervals: with k the last successor given free mass, P·ŷ equals the
    dual bound g(ŷ_k) of `worst_expectation`, and g(μ) ≤ P'·ŷ for every feasible P' and every μ
    (weak duality). As the minimum over distributions is
    1-Lipschitz in the sup norm, |P·ŷ − min_P' P'·βW| ≤ ε_y, so Q̂ = fl(r̂ + Σ p̂·ŷ) with
    p̂ = fl(P/d) (correctly rounded: relative error u) has the error e_Q above, with the
    conversion (u, 0).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.model import Mdp, concat_ranges
from proofs.core.numbers import Rationals
from proofs.core.policy import PolicyLayer
from proofs.kernel import rounding
from proofs.kernel.rounding import Conversion, Rows, U, product_error, round_up

__all__ = ["Bound", "ExactBellman", "FloatBellman", "Selection", "U", "Vector", "at_initial", "ball_expectation", "greedy", "magnitude",
           "policy_weights", "round_up", "step", "worst_expectation"]

F = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Vector = F | list[Fraction]
_MIN_NORMAL = 2.0**-1022
_PIECE = 1 << 13   # choices per piece of a pass (module docstring)
_PADDING = 1.5     # successor positions per transition at most, else the pieces (module docstring)


def magnitude(x: F) -> Fraction:
    """max |x_i| as an exact `Fraction` (a bound the error formulas use); NaN or ∞ is a rejection."""
    try:
        return rounding.magnitude(x)
    except ArithmeticError:
        raise CheckFailure("a value vector holds a NaN or infinite entry") from None


V = TypeVar("V", bound=Vector)   # a float array or a list of Fractions


@dataclass(frozen=True, eq=False)
class Bound(Generic[V]):
    """Componentwise ``centre − down ≤ value ≤ centre + up`` (float array or list of Fractions)."""

    centre: V
    down: Fraction
    up: Fraction


def at_initial(mdp: Mdp, bound: Bound[Any]) -> Enclosure:
    """Enclosure of μ₀·value, exact in rationals (μ₀ sums to exactly 1, so offsets carry over)."""
    centre = bound.centre
    total = Fraction(0)
    for s, p in mdp.initial_distribution():
        total += p * Fraction(centre[s])
    return Enclosure(total - bound.down, total + bound.up)


def step(values: V, err: Fraction, beta: Fraction, bound: Bound[Any]) -> Bound[V]:
    """The bound T(bound) from T(centre) (computed to within ``err``): offsets times β, plus err."""
    return Bound(values, round_up(beta * bound.down + err), round_up(beta * bound.up + err))


# -- exact ------------------------------------------------------------------------------------
def _fill(items: Sequence[tuple[int, Fraction, Fraction]]) -> list[tuple[int, Fraction, Fraction]]:
    """Nature's greedy over a row in the order given: every successor gets its lower bound and the
    free mass 1 − Σ lo goes to the first ones, up to their upper bounds. (t, P(t), the extra mass)
    per successor; a row whose intervals hold no distribution is a rejection."""
    free = 1 - sum((lo for _, lo, _ in items), Fraction(0))
    out = []
    for t, lo, hi in items:
        extra = max(Fraction(0), min(hi - lo, free))
        free -= extra
        out.append((t, lo + extra, extra))
    if free != 0:
        raise CheckFailure("a credal row's intervals cannot form a distribution (the model is invalid)")
    return out


def greedy(row: Sequence[tuple[int, Fraction, Fraction]], key: Callable[[int], Fraction]) -> list[tuple[int, Fraction]]:
    """A distribution within a row's intervals putting mass on the highest ``key`` first (a choice of
    nature: any distribution within the intervals is one, so its feasibility is all that is checked)."""
    return [(t, p) for t, p, _ in _fill(sorted(row, key=lambda e: -key(e[0])))]


def worst_expectation(row: Sequence[tuple[int, Fraction, Fraction]], w: Sequence[Fraction],
                      highest: bool = False) -> Fraction:
    """min Σ P(t)·w(t) over distributions with lo ≤ P(t) ≤ hi, certified (module docstring); with
    ``highest`` the max, certified as minus the min of −w.

    >>> worst_expectation([(0, Fraction(1, 4), Fraction(3, 4)), (1, Fraction(1, 4), Fraction(3, 4))],
    ...                   [Fraction(0), Fraction(1)], highest=True)
    Fraction(3, 4)
    """
    if highest:
        return -worst_expectation([(i, lo, hi) for i, (_, lo, hi) in enumerate(row)], [-w[t] for t, _, _ in row])
    items = sorted(row, key=lambda e: w[e[0]])
    filled = _fill(items)
    lam = w[items[0][0]]
    for t, _, extra in filled:
        if extra > 0:
            lam = w[t]
    value = sum((p * w[t] for t, p, _ in filled), Fraction(0))
    dual = lam + sum((min((w[t] - lam) * lo, (w[t] - lam) * hi) for t, lo, hi in items), Fraction(0))
    if dual != value:
        raise CheckFailure(f"nature's minimum is not certified: dual bound {dual} != primal {value}")
    return value


def ball_expectation(row: Sequence[tuple[int, Fraction, Fraction]], w: Sequence[Fraction], eta: Fraction,
                     highest: bool = False) -> Fraction:
    """min (``highest``: max) of Σ P'·w over the distributions P' on all states within total
    variation η of the point row P: η of P's mass moves from its successors of highest w (lowest,
    for the max) to the state of lowest w (highest). A unit moved from t to u changes Σ by
    w(u) − w(t), so moving the most from the highest w to the lowest is optimal."""
    if highest:
        return -ball_expectation(row, [-x for x in w], eta)
    low, left = min(w), eta
    value = sum((p * w[t] for t, p, _ in row), Fraction(0))
    for t, p, _ in sorted(row, key=lambda e: -w[e[0]]):
        take = min(p, left)
        value, left = value - take * (w[t] - low), left - take
    return value


class ExactBellman:
    """The operators of the module docstring in `Fraction` arithmetic (small models); with a
    ``ball`` (η, highest) on a point model, nature's min (max) over the distributions within total
    variation η of each row (`ball_expectation`)."""

    def __init__(self, mdp: Mdp, reward: Rationals, beta: Fraction, ball: tuple[Fraction, bool] | None = None) -> None:
        self.mdp, self.beta, self.ball = mdp, beta, ball
        self.reward = reward.fractions()
        bounds, targets = mdp.row_start.tolist(), mdp.target.tolist()
        if mdp.interval is None:
            assert mdp.probability is not None
            lows = highs = mdp.probability.fractions()
        else:
            lows, highs = mdp.interval[0].fractions(), mdp.interval[1].fractions()
        self.rows = [[(targets[i], lows[i], highs[i]) for i in range(bounds[c], bounds[c + 1])]
                     for c in range(mdp.n_choices)]

    def q(self, c: int, w: Vector) -> Fraction:
        if not isinstance(w, list):
            raise TypeError("exact operators take a list of Fractions")
        row = self.rows[c]
        if self.ball is not None and self.mdp.interval is None:
            expected = ball_expectation(row, w, *self.ball)
        elif self.mdp.interval is None:
            expected = sum((p * w[t] for t, p, _ in row), Fraction(0))
        else:
            expected = worst_expectation(row, w)
        return self.reward[c] + self.beta * expected

    def optimal(self, w: Vector) -> tuple[list[Fraction], Fraction]:
        """(T* W)(s) for every state, exactly (error 0)."""
        return [max(self.q(c, w) for c in self.mdp.choices(s)) for s in range(self.mdp.n_states)], Fraction(0)

    def policy(self, layer: PolicyLayer, w: Vector) -> tuple[list[Fraction], Fraction]:
        """(T_π W)(s) where the layer is defined, 0 elsewhere, exactly (error 0)."""
        return [sum((p * self.q(c, w) for c, p in layer.distribution(s)), Fraction(0))
                for s in range(self.mdp.n_states)], Fraction(0)


# -- float (midpoint-radius) ------------------------------------------------------------------
def _normal_or_zero(values: F, what: str) -> None:
    small = (values != 0) & (np.abs(values) < _MIN_NORMAL)
    if np.any(small) or not np.all(np.isfinite(values)):
        raise CheckFailure(f"a {what} is not a normal float, so float arithmetic cannot bound its error")


def _sums(owner: npt.NDArray[np.integer], terms: F, groups: int) -> F:
    """Σ of the terms of each group 0 … groups − 1 (``owner``: the group of each term), added in
    position order (``np.bincount``); 0 for a group without terms."""
    out: F = np.bincount(owner, weights=terms, minlength=groups).astype(np.float64, copy=False)
    return out


def policy_weights(layer: PolicyLayer) -> F:
    """The layer's probabilities as floats, each 0 or normal (else a rejection)."""
    weights = layer.probability.floats()
    _normal_or_zero(weights, "policy probability")
    return weights


@dataclass(frozen=True, eq=False)
class Nature:
    """A credal model's intervals by successor position (as `Positions`), in integers over one
    common denominator d with N·d < 2^53: ``lo`` and ``extra`` = hi − lo (0 on padding), and
    ``free`` = d − Σ lo per choice, the mass nature places above the lower bounds."""

    lo: npt.NDArray[np.int64]
    extra: npt.NDArray[np.int64]
    free: npt.NDArray[np.int64]
    denominator: int

    def select(self, choices: IntArray) -> Nature:
        return Nature(np.take(self.lo, choices, axis=1), np.take(self.extra, choices, axis=1),
                      np.take(self.free, choices), self.denominator)

    def worst(self, y: F, target: npt.NDArray[np.intp]) -> F:
        """p̂ of nature's greedy distribution at every position (module docstring, "credal rows"):
        successor i gets its lower bound and what is left of the free mass after the successors
        before it in increasing order of (y, position), up to its upper bound."""
        values = np.take(y, target, mode="clip")
        before = np.zeros_like(self.extra)
        for i in range(len(target)):
            for j in range(len(target)):
                if j != i:
                    first = np.less(values[j], values[i]) if j > i else np.less_equal(values[j], values[i])
                    before[i] += self.extra[j] * first
        p: F = (self.lo + np.clip(self.free - before, 0, self.extra)) / self.denominator
        return p


def _nature(mdp: Mdp, at: IntArray, used: npt.NDArray[np.bool_]) -> Nature:
    """The model's `Nature`, or a rejection: bounds outside [0, 1] or without a common
    denominator small enough, or a choice whose intervals hold no distribution."""
    assert mdp.interval is not None
    bounds = mdp.interval
    if not all(b.is_compact and np.all((0 <= b.num) & (b.num <= b.den)) for b in bounds):
        raise CheckFailure("a probability interval is not within [0, 1] in 64-bit integers")
    d = max(int(b.den.max(initial=1)) for b in bounds)
    if not all(np.all(d % b.den == 0) for b in bounds):
        d = math.lcm(*{int(x) for b in bounds for x in np.unique(b.den)})
    if d * len(at) >= 2**53:
        raise CheckFailure("the probability intervals have no common denominator below 2^53 / N, which float "
                           "arithmetic needs; check the certificate in exact arithmetic")
    lo, hi = (np.where(used, (b.num * (d // b.den))[at], 0) for b in bounds)
    free, extra = d - lo.sum(axis=0), hi - lo
    if np.any(extra < 0) or np.any(free < 0) or np.any(extra.sum(axis=0) < free):
        raise CheckFailure("a choice's probability intervals hold no distribution")
    return Nature(lo, extra, free, d)


@dataclass(frozen=True, eq=False)
class Positions:
    """Successor i of choice c at ``[i, c]``: its target and p̂, or p̂ = 0 (and the target of the
    choice's last successor) past its last one; on a credal model ``nature`` gives p̂ per pass."""

    target: npt.NDArray[np.intp]
    p: F
    nature: Nature | None = None

    def select(self, choices: IntArray) -> Positions:
        if self.nature is not None:
            return Positions(np.take(self.target, choices, axis=1), self.p, self.nature.select(choices))
        return Positions(np.take(self.target, choices, axis=1), np.take(self.p, choices, axis=1))

    def sums(self, y: F, key: F | None = None) -> F:
        """Σ_i p̂[i, c]·y[target[i, c]] for every column c, added in successor order; on a credal
        model p̂ is nature's greedy for ``key`` (default: y), the distribution minimising key's
        expectation."""
        target = self.target
        p = self.p if self.nature is None else self.nature.worst(y if key is None else key, target)
        q: F = np.take(y, target[0], mode="clip")   # targets were range-checked
        np.multiply(q, p[0], out=q)
        term = np.empty_like(q)
        for i in range(1, len(target)):
            np.take(y, target[i], out=term, mode="clip")
            np.multiply(term, p[i], out=term)
            np.add(q, term, out=q)
        return q


_POSITIONS: weakref.WeakKeyDictionary[Mdp, Positions | None] = weakref.WeakKeyDictionary()


def positions(mdp: Mdp) -> Positions | None:
    """The model's `Positions` (built once per model), or None when they need too much padding
    (never on a credal model: its passes are by position only)."""
    if mdp not in _POSITIONS:
        lengths = np.diff(mdp.row_start)
        width, laid = int(lengths.max(initial=1)), None
        if mdp.is_credal or width * mdp.n_choices <= _PADDING * mdp.n_transitions:
            i = np.arange(width)[:, None]
            at, used = mdp.row_start[:-1] + np.minimum(i, lengths - 1), i < lengths
            target = mdp.target[at].astype(np.intp)
            laid = Positions(target, np.zeros((0, 0)), _nature(mdp, at, used)) if mdp.is_credal else \
                Positions(target, np.where(used, mdp.float_probability[at], 0.0))
            for array in (laid.target, laid.p, *(() if laid.nature is None else (laid.nature.lo, laid.nature.extra,
                                                                                  laid.nature.free))):
                array.flags.writeable = False   # shared by every operator of the model: never edited
        _POSITIONS[mdp] = laid
    return _POSITIONS[mdp]


_CHOICES: weakref.WeakKeyDictionary[Mdp, npt.NDArray[np.intp] | None] = weakref.WeakKeyDictionary()


def state_max(q: F, mdp: Mdp) -> F:
    """max over each state's choices of the choice values q (exact: any order gives the same):
    by choice position (the i-th choice of every state at once, a state's last one repeated), or
    by ``reduceat`` where padding would cost more than `_PADDING` times the choices."""
    if mdp not in _CHOICES:
        counts = np.diff(mdp.choice_start)
        width = int(counts.max(initial=1))
        _CHOICES[mdp] = None if width * mdp.n_states > _PADDING * mdp.n_choices else \
            (mdp.choice_start[:-1] + np.minimum(np.arange(width)[:, None], counts - 1)).astype(np.intp)
    laid = _CHOICES[mdp]
    if laid is None:
        return np.maximum.reduceat(q, mdp.choice_start[:-1])
    out: F = np.take(q, laid[0])
    term = np.empty_like(out)
    for row in laid[1:]:
        np.maximum(out, np.take(q, row, out=term), out=out)
    return out


@dataclass(frozen=True, eq=False)
class Selection:
    """Some choices of a model with their transitions gathered: by successor position
    (``positions``), or in CSR order with ``owner`` numbering each gathered transition by its
    choice's position in ``choices``."""

    mdp: Mdp
    choices: IntArray
    positions: Positions | None
    target: npt.NDArray[np.intp]
    p: F
    owner: npt.NDArray[np.intp]


class FloatBellman:
    """The operators of the module docstring in float arithmetic, each with a proved error.

    Every pass returns its floats and a bound on their distance to the exact operator applied to
    the (exact) entries of W.
    """

    def __init__(self, mdp: Mdp, reward: Rationals, beta: Fraction, highest: bool = False) -> None:
        if np.any(np.diff(mdp.row_start) < 1) or np.any(np.diff(mdp.choice_start) < 1):
            raise CheckFailure("the model has a choice without successors or a state without choices")
        if len(mdp.target) and (int(mdp.target.min()) < 0 or int(mdp.target.max()) >= mdp.n_states):
            raise CheckFailure("the model has a successor outside its states")
        if not 0 < beta <= 1:
            raise CheckFailure(f"the float operators need 0 < β ≤ 1, got {beta}")
        self.mdp, self.beta, self.beta_f = mdp, beta, float(beta)
        self.highest = highest   # credal: nature maximises the expectation instead (min of −W)
        self.p = mdp.float_probability   # credal: nature's, per pass (`Nature`)
        if mdp.is_credal:
            positions(mdp)   # the intervals are validated here
        else:
            _normal_or_zero(self.p, "transition probability")
        self.r = reward.floats()
        if not np.all(np.isfinite(self.r)):
            raise CheckFailure("a reward is too large for float arithmetic")
        # native (intp) indices, range-checked above: numpy's take converts any other type per call
        self.target = mdp.target.astype(np.intp, copy=False)
        conversion = Conversion(U, Fraction(0)) if mdp.probability is None else Conversion.of(mdp.probability)
        self.rows = Rows.distributions(int(np.diff(mdp.row_start).max(initial=1)), conversion)
        self.reward_max = magnitude(self.r)
        self.reward_error = Conversion.of(reward).error(self.reward_max)

    def choice_error(self, m_bound: Fraction) -> Fraction:
        """e_Q for |W| ≤ m_bound (module docstring); 0 when W = 0 and every reward is exactly 0
        (then every product, sum and conversion is an exact 0)."""
        beta_error = abs(Fraction(self.beta_f) - self.beta)
        eps_y = Fraction(0) if self.beta_f == 1 else product_error(self.beta, beta_error, m_bound, Fraction(0))
        return round_up(self.reward_error + self.rows.error(self.reward_max, m_bound, eps_y))

    def scaled(self, w: Vector) -> F:
        """ŷ = fl(β̂·W), or W itself when β = 1 (module docstring)."""
        if not isinstance(w, np.ndarray) or w.dtype != np.float64:
            raise TypeError("float operators take a float64 array: its entries are the exact values bounded")
        return w if self.beta_f == 1 else np.multiply(w, self.beta_f)

    def choice_values(self, w: Vector, choices: IntArray | None = None) -> tuple[F, Fraction]:
        """Q̂_W(c) for every choice (or for ``choices``, in that order), and e_Q."""
        if choices is not None:
            return self.selected_values(w, self.select(choices))
        y = self.scaled(w)
        err = self.choice_error(magnitude(np.asarray(w)))
        laid = positions(self.mdp)
        if laid is not None:
            q = laid.sums(y, -y if self.highest else None)
            return np.add(q, self.r, out=q), err
        q = np.empty(self.mdp.n_choices)
        for first in range(0, self.mdp.n_choices, _PIECE):
            last = min(first + _PIECE, self.mdp.n_choices)
            q[first:last] = self._values(y, first, last)
        return q, err

    def _values(self, y: F, first: int, last: int) -> F:
        """Q̂ of the choices first … last − 1: r̂ + the products summed in successor order."""
        start, stop = self.mdp.row_start[first], self.mdp.row_start[last]
        terms = np.take(y, self.target[start:stop], mode="clip")   # targets were range-checked
        np.multiply(terms, self.p[start:stop], out=terms)
        q = _sums(self.mdp.transition_choice[start:stop] - first, terms, last - first)
        return np.add(q, self.r[first:last], out=q)

    def select(self, choices: IntArray) -> Selection:
        """The transitions of ``choices``, gathered once for any number of passes over them (by
        any `FloatBellman` of the same model: they share its probabilities and successors)."""
        laid, none = positions(self.mdp), np.zeros(0, dtype=np.intp)
        if laid is not None:
            return Selection(self.mdp, choices, laid.select(choices), none, np.zeros(0), none)
        first, last = self.mdp.row_start[choices], self.mdp.row_start[choices + 1]
        index = concat_ranges(first, last)
        owner = np.repeat(np.arange(len(choices), dtype=np.intp), last - first)
        return Selection(self.mdp, choices, None, self.target[index], self.p[index], owner)

    def selected_values(self, w: Vector, chosen: Selection, key: F | None = None) -> tuple[F, Fraction]:
        """Q̂_W of the selected choices, in their order, computed as `_values` does, and e_Q. On a
        credal model with a ``key``, under the one nature that minimises key's expectation (any
        distribution within the intervals is a nature: the value is one it reaches)."""
        if chosen.mdp is not self.mdp:
            raise TypeError("a selection is used with the operators of its own model only")
        y = self.scaled(w)
        if chosen.positions is not None:
            q = chosen.positions.sums(y, key if key is not None else -y if self.highest else None)
        else:
            terms = np.take(y, chosen.target, mode="clip")
            np.multiply(terms, chosen.p, out=terms)
            q = _sums(chosen.owner, terms, len(chosen.choices))
        return np.add(q, self.r[chosen.choices], out=q), self.choice_error(magnitude(np.asarray(w)))

    def optimal(self, w: Vector) -> tuple[F, Fraction]:
        """(T* W) to within the returned error, at every state (the max over choices is exact)."""
        q, err = self.choice_values(w)
        return state_max(q, self.mdp), err

    def optimal_plus(self, w: Vector, sign: int, other: FloatBellman, scale: float) -> tuple[F, Fraction]:
        """max over each state's choices c of fl(sign·Q̂_W(c) + fl(scale·r̂'(c))), with r̂' the
        rewards of `other` (an operator on the same model) and sign ±1 (negation is exact), and
        the largest |·| of these sums over all choices (the caller adds up the errors)."""
        q, _ = self.choice_values(w)
        total = np.multiply(other.r, scale)
        if sign == 1:
            np.add(total, q, out=total)
        else:
            np.subtract(total, q, out=total)   # fl(−Q̂ + x) = fl(x − Q̂)
        return state_max(total, self.mdp), magnitude(total)

    def policy(self, layer: PolicyLayer, w: Vector) -> tuple[F, Fraction]:
        """(T_π W) to within the returned error where the layer is defined, 0 elsewhere: the
        choice values of the layer's entries, weighted and summed per state in entry order."""
        weights = policy_weights(layer)
        q, err = self.choice_values(w, layer.choice)
        q_max = magnitude(q)
        np.multiply(q, weights, out=q)
        owner = np.repeat(np.arange(self.mdp.n_states, dtype=np.intp), np.diff(layer.start))
        return _sums(owner, q, self.mdp.n_states), self.mixing_error(layer, q_max, err)

    @staticmethod
    def mixing_error(layer: PolicyLayer, q_max: Fraction, err: Fraction) -> Fraction:
        """The error of a layer's mixture of choice values |Q̂| ≤ q_max, each within err (F4)."""
        mixing = Rows.distributions(int(np.diff(layer.start).max(initial=1)), Conversion.of(layer.probability))
        return round_up(mixing.error(Fraction(0), q_max, err))

    def q(self, c: int, w: Vector) -> Fraction:
        """Q̂_W(c) of one choice (for messages; the error is that of `choice_values`)."""
        return Fraction(float(self.choice_values(w, np.array([c], dtype=np.int64))[0][0]))
