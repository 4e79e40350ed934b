"""One-pass Bellman operators of the objective J on value vectors, exact or with a proved error.

TRUSTED. Used by `proofs.kernel.check_policy` (and, for the very same numbers, by the policy
engine). J has no stop states (`proofs.kernel.episode.objective_quantity`), so its operators
on a value vector W are

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

Float arithmetic (`FloatBellman`, midpoint-radius; point models only)
    IEEE binary64, round to nearest, u = 2**-53, τ = 2**-1074. Facts used: fl(a ∘ b) =
    (a ∘ b)(1 + δ) + η with |δ| ≤ u, and |η| ≤ τ/2 for × (0 for + and −); a sum of k terms in
    any order is within 1.0001·(k − 1)·u·Σ|terms| of the exact sum (Higham, §4.2; k ≤ 2**30);
    `Rationals.floats` is within 4u·|x| + τ of x (num and den each rounded once, then the
    division); probabilities and policy weights are required to be 0 or normal (≥ 2**-1022),
    which removes the τ from their conversion. For a choice with k ≤ n successors, W exact
    floats with M ≥ max|W| and R ≥ max|r̂|:
      S = fl(Σ fl(p̂·W)) is within (n + 5)·u·M·1.0002 + (n + 1)²·τ of Σ p·W (summation, the
      products, and Σ|p̂ − p|·|W| ≤ 4u·M);
      Q̂ = fl(r̂ + fl(β̂·S)), β̂ = float(β) within u·β, β ≤ 1, is then within
      (n + 10)·u·(M + R)·1.0003 + ((n + 1)² + 2)·τ of Q_W(c).
    We use `e_Q = 2·(n + 10)·u·(M + R) + 2·((n + 1)² + 2)·τ`, computed in exact rationals and
    rounded up, so the factor 2 also absorbs the small factors above. The max over choices is
    exact, so T* is within e_Q; a policy mixture of m entries with |Q̂| ≤ Qm adds
    2·(m + 5)·u·Qm + 2·(m + 1)²·τ (the same summation argument, and Σ|π̂ − π|·|Q̂| ≤ 4u·Qm).

    Layout. On large models a pass works on blocks of states with every state's choices in
    "slots" (`SlotLayout`): a distribution shorter than the longest is padded with probability 0,
    and a state with fewer choices (or policy entries) than slots repeats one of its own
    choices (with policy weight 0). Padding adds exact zero terms, and a repeated choice's value
    is computed by the same operations as the original, so the bounds above hold unchanged.
    Blocks run on two threads; each block's operations do not depend on the thread, so the
    floats are the same as on one thread (tested against the grouped-sum layout, bit for bit).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from math import ulp
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.model import Mdp, concat_ranges
from proofs.core.numbers import Rationals
from proofs.core.policy import PolicyLayer

__all__ = ["THREADS", "Bound", "ExactBellman", "FloatBellman", "SlotLayout", "Vector", "at_initial",
           "expectation_into", "magnitude", "round_up", "run_blocks", "step", "worst_expectation"]

F = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
U = Fraction(1, 2**53)
TAU = Fraction(1, 2**1074)
_MIN_NORMAL = 2.0**-1022
_PADDING = 1.5  # at most this many padded successor slots per transition, else grouped sums
_BLOCK = 1 << 14  # states per block of a `SlotLayout` pass
THREADS = min(2, os.cpu_count() or 1)  # threads per `SlotLayout` pass (numpy's gathers and ufuncs release the GIL)
_POOL: list[ThreadPoolExecutor] = []


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(THREADS, thread_name_prefix="bellman"))
    return _POOL[0]


def expectation_into(w: F, target: npt.NDArray[np.intp], probability: F, out: F, term: F) -> None:
    """``out = Σ_i probability[i]·w[target[i]]``, summed in position order i = 0, 1, ... (``term``
    is scratch of out's shape); the successor sum of every slot of one block."""
    np.take(w, target[0], out=out, mode="clip")  # targets were range-checked by the operator
    np.multiply(out, probability[0], out=out)
    for i in range(1, len(target)):
        np.take(w, target[i], out=term, mode="clip")
        np.multiply(term, probability[i], out=term)
        np.add(out, term, out=out)


def run_blocks(blocks: int, work: Callable[[int, int, int], float]) -> float:
    """``work(first, last, part)`` on consecutive ranges of ``range(blocks)``, one per thread
    (``part`` < `THREADS` names the thread's buffers); the max of the results. Each range's
    numbers must not depend on the others, so the threads cannot change them."""
    parts = max(min(THREADS, blocks), 1)
    if parts == 1:
        return work(0, blocks, 0)
    cuts = [blocks * k // parts for k in range(parts + 1)]
    done = [_pool().submit(work, cuts[k], cuts[k + 1], k) for k in range(parts)]
    return max(future.result() for future in done)
Vector = F | list[Fraction]


def magnitude(x: F) -> Fraction:
    """max |x_i| as an exact `Fraction` (a bound the error formulas use); NaN or ∞ is a rejection."""
    top = float(np.max(np.abs(x), initial=0.0))
    if not np.isfinite(top):
        raise CheckFailure("a value vector holds a NaN or infinite entry")
    return Fraction(top)


def round_up(x: Fraction) -> Fraction:
    """The smallest float ≥ x, as an exact `Fraction` (keeps carried error bounds short)."""
    f = float(x)
    while Fraction(f) < x:
        f = f + ulp(f)
    return Fraction(f)


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


# -- exact ------------------------------------------------------------------------------------
def worst_expectation(row: Sequence[tuple[int, Fraction, Fraction]], w: Sequence[Fraction]) -> Fraction:
    """min Σ P(t)·w(t) over distributions with lo ≤ P(t) ≤ hi, certified (module docstring)."""
    items = sorted(row, key=lambda e: w[e[0]])
    free = 1 - sum((lo for _, lo, _ in items), Fraction(0))
    lam = w[items[0][0]]
    value = Fraction(0)
    for t, lo, hi in items:
        extra = max(Fraction(0), min(hi - lo, free))
        if extra > 0:
            lam = w[t]
        free -= extra
        value += (lo + extra) * w[t]
    if free != 0:
        raise CheckFailure("a credal row's intervals cannot form a distribution (the model is invalid)")
    dual = lam + sum((min((w[t] - lam) * lo, (w[t] - lam) * hi) for t, lo, hi in items), Fraction(0))
    if dual != value:
        raise CheckFailure(f"nature's minimum is not certified: dual bound {dual} != primal {value}")
    return value


class ExactBellman:
    """The operators of the module docstring in `Fraction` arithmetic (small models)."""

    def __init__(self, mdp: Mdp, reward: Rationals, beta: Fraction) -> None:
        self.mdp, self.beta = mdp, beta
        self.reward = reward.fractions()
        bounds, targets = mdp.row_start.tolist(), mdp.target.tolist()
        if mdp.interval is None:
            assert mdp.probability is not None
            probs = mdp.probability.fractions()
            self.rows = [[(targets[i], probs[i], probs[i]) for i in range(bounds[c], bounds[c + 1])]
                         for c in range(mdp.n_choices)]
        else:
            lows, highs = mdp.interval[0].fractions(), mdp.interval[1].fractions()
            self.rows = [[(targets[i], lows[i], highs[i]) for i in range(bounds[c], bounds[c + 1])]
                         for c in range(mdp.n_choices)]

    def q(self, c: int, w: Vector) -> Fraction:
        if not isinstance(w, list):
            raise TypeError("exact operators take a list of Fractions")
        row = self.rows[c]
        if self.mdp.interval is None:
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


@dataclass(eq=False)
class SlotLayout:
    """Choices laid out by slot and in blocks of states, for operators that combine a state's
    choices (or policy entries) with one pass of gathers and ufuncs per block.

    ``target[b, i, j, s]`` and ``probability[b, i, j, s]`` are the i-th successor of the choice in
    slot j of state ``b·B + s`` (probability 0, an exact zero term, where that choice has fewer
    successors); a state with fewer choices than slots repeats one of its own, whose value is
    then computed identically. The last block is padded with copies of state 0 (discarded).
    Blocks keep each pass's arrays in cache, which makes the ufuncs several times faster than
    over whole ``slots × states`` arrays.
    """

    target: npt.NDArray[np.intp]
    probability: F
    reward: F
    choice: IntArray  # blocks × slots × B: the global choice index of every slot
    values: F  # threads × slots × B buffers
    term: F

    @property
    def block(self) -> int:
        return int(self.values.shape[2])


@dataclass(eq=False)
class _Rows:
    """The successor rows of some choices (``owner``: the row of each transition), with a buffer."""

    owner: IntArray
    target: npt.NDArray[np.integer]
    probability: F
    reward: F
    gathered: F


class FloatBellman:
    """The operators of the module docstring in float arithmetic, each with a proved error."""

    def __init__(self, mdp: Mdp, reward: Rationals, beta: Fraction, row_cache: dict[str, Any] | None = None) -> None:
        if mdp.probability is None:
            raise CheckFailure("a credal model is checked in exact arithmetic, not float")
        if np.any(np.diff(mdp.row_start) < 1) or np.any(np.diff(mdp.choice_start) < 1):
            raise CheckFailure("the model has a choice without successors or a state without choices")
        if len(mdp.target) and (int(mdp.target.min()) < 0 or int(mdp.target.max()) >= mdp.n_states):
            raise CheckFailure("the model has a successor outside its states")
        if not 0 < beta <= 1:
            raise CheckFailure(f"the float operators need 0 < β ≤ 1, got {beta}")
        self.mdp, self.beta, self.beta_f = mdp, beta, float(beta)
        self.p = mdp.float_probability
        _normal_or_zero(self.p, "transition probability")
        self.r = reward.floats()
        if not np.all(np.isfinite(self.r)):
            raise CheckFailure("a reward is too large for float arithmetic")
        self.n = int(np.diff(mdp.row_start).max(initial=1))
        self.reward_max = Fraction(float(np.max(np.abs(self.r), initial=0.0)))
        # native (intp) indices: numpy's take converts any other index type on every call
        self.target = mdp.target.astype(np.intp, copy=False)
        self._all = _Rows(mdp.transition_choice, self.target, self.p, self.r, np.empty(len(mdp.target)))
        self._layers: dict[int, tuple[PolicyLayer, _Rows | SlotLayout, F, int, IntArray]] = {}
        self._star: SlotLayout | None | bool = False  # built on first use of `optimal`; None: too much padding
        self.row_cache: dict[str, Any] = row_cache if row_cache is not None else {}
        self.reward_zero = not bool(np.any(reward.num != 0))

    def _rows(self, choices: IntArray) -> _Rows:
        row_start = self.mdp.row_start
        lengths = row_start[choices + 1] - row_start[choices]
        index = concat_ranges(row_start[choices], row_start[choices + 1])
        owner = np.repeat(np.arange(len(choices), dtype=np.int64), lengths)
        return _Rows(owner, self.target[index], self.p[index], self.r[choices], np.empty(len(index)))

    def _slots(self, choice: IntArray) -> SlotLayout | None:
        """The `SlotLayout` of ``choice[j, s]`` (a choice of state s for every slot j), or None when
        padding the distributions to one length would cost more than `_PADDING` times their
        transitions (then the grouped-sum layout of `_Rows` is cheaper)."""
        row_start = self.mdp.row_start
        n = choice.shape[1]
        size = min(_BLOCK, max(n, 1))
        blocks = -(-n // size)
        choice = np.concatenate([choice, np.repeat(choice[:, :1], blocks * size - n, axis=1)], axis=1)
        first = row_start[choice]
        length = row_start[choice + 1] - first
        width = int(length.max(initial=1))
        if width * choice.size > _PADDING * int(length.sum()):
            return None
        shape = (width, len(choice), blocks, size)
        target = np.empty(shape, dtype=np.intp)
        probability = np.empty(shape)
        for i in range(width):
            at = first + np.minimum(i, length - 1)
            target[i] = self.target[at].reshape(shape[1:])
            probability[i] = np.where(i < length, self.p[at], 0.0).reshape(shape[1:])
        reward = self.r[choice].reshape(shape[1:]).transpose(1, 0, 2)
        buffers = (THREADS,) + shape[1::2]
        return SlotLayout(np.ascontiguousarray(target.transpose(2, 0, 1, 3)),
                          np.ascontiguousarray(probability.transpose(2, 0, 1, 3)), np.ascontiguousarray(reward),
                          np.ascontiguousarray(choice.reshape(shape[1:]).transpose(1, 0, 2)),
                          np.empty(buffers), np.empty(buffers))

    def _slot_pass(self, slots: SlotLayout, w: Vector, fill: Callable[[int, F, F], float]) -> tuple[F, float]:
        """One value per state, block by block: ``fill(b, values, out)`` gets values = Q̂_W of
        block b's slots (slots × B) and writes the block's part ``out`` (B) of the result; the
        result over the states, and the max of what ``fill`` returned.

        Blocks are split between up to `THREADS` threads, each with its own buffers. Every block's
        numbers are computed by the same operations whichever thread runs it, so the results do
        not depend on the threads.
        """
        if not isinstance(w, np.ndarray) or w.dtype != np.float64:
            raise TypeError("float operators take a float64 array: its entries are the exact values bounded")
        size = slots.block
        out = np.empty(len(slots.target) * size)

        def run(first: int, last: int, part: int) -> float:
            values, term, top = slots.values[part], slots.term[part], 0.0
            for b in range(first, last):
                expectation_into(w, slots.target[b], slots.probability[b], values, term)
                np.multiply(values, self.beta_f, out=values)
                np.add(values, slots.reward[b], out=values)
                top = max(top, fill(b, values, out[b * size : (b + 1) * size]))
            return top

        top = run_blocks(len(slots.target), run)
        return out[: self.mdp.n_states], top

    def star_layout(self) -> SlotLayout | None:
        """All choices in slots (slot j of state s: its j-th choice, or its last one), built on
        first use, or None when padding would be too costly. Operators on the same model with a
        shared ``row_cache`` share its successor arrays."""
        if self._star is False:
            counts = np.diff(self.mdp.choice_start)
            first = self.mdp.choice_start[:-1]
            shared = self.row_cache.get("star", False)
            if shared is False:
                choice = np.stack([first + np.minimum(j, counts - 1) for j in range(int(counts.max(initial=1)))])
                self._star = self.row_cache["star"] = self._slots(choice)
            else:   # another operator's layout: the same successors, with this operator's rewards
                self._star = None if shared is None else SlotLayout(
                    shared.target, shared.probability, self.r[shared.choice], shared.choice,
                    np.empty_like(shared.values), np.empty_like(shared.term))
        assert self._star is not True
        return self._star

    def optimal_plus(self, w: Vector, sign: int, other: FloatBellman, scale: float) -> tuple[F, float] | None:
        """max over each state's choices c of fl(sign·Q̂_W(c) + fl(scale·r̂'(c))), with r̂' the
        rewards of `other` (an operator on the same model), and the largest |·| of these sums
        over all choices; the floats of the grouped computation (`choice_values`, then the sum,
        then the max). None when there is no slot layout (then the caller computes it so)."""
        slots = self.star_layout()
        theirs = other.star_layout()
        if slots is None or theirs is None or sign not in (1, -1):
            return None

        def best(b: int, values: F, out: F) -> float:
            total = np.multiply(theirs.reward[b], scale)
            if sign == 1:
                total += values
            else:
                np.subtract(total, values, out=total)   # fl(−Q̂ + x) = fl(x − Q̂): negation is exact
            np.max(total, axis=0, out=out)
            return float(np.max(np.abs(total)))

        return self._slot_pass(slots, w, best)

    def chosen_values(self, local: npt.NDArray[np.integer], w: Vector) -> tuple[F, Fraction]:
        """Q̂_W of every state's choice number ``local[s]`` (0 ≤ local[s] < its number of
        choices, checked by the caller), and e_Q; the same floats as `choice_values_of`."""
        slots = self.star_layout()
        if slots is None:
            return self.choice_values_of(self.mdp.choice_start[:-1] + local, w)
        err = self.choice_error(self._magnitude(w))
        size = slots.block
        pick = np.zeros(len(slots.target) * size, dtype=np.intp)
        pick[: self.mdp.n_states] = local

        def chosen(b: int, values: F, out: F) -> float:
            out[:] = np.take_along_axis(values, pick[None, b * size : (b + 1) * size], axis=0)[0]
            return 0.0

        return self._slot_pass(slots, w, chosen)[0], err

    def choice_error(self, m_bound: Fraction) -> Fraction:
        """e_Q for |W| ≤ m_bound (module docstring); 0 when W = 0 and every reward is exactly 0
        (then every product, sum and conversion is an exact 0)."""
        if m_bound == 0 and self.reward_zero:
            return Fraction(0)
        n = self.n
        return round_up(2 * (n + 10) * U * (m_bound + self.reward_max) + 2 * ((n + 1) ** 2 + 2) * TAU)

    def _q(self, rows: _Rows, w: Vector) -> F:
        if not isinstance(w, np.ndarray) or w.dtype != np.float64:
            raise TypeError("float operators take a float64 array: its entries are the exact values bounded")
        np.take(w, rows.target, out=rows.gathered, mode="clip")  # targets were range-checked above
        np.multiply(rows.gathered, rows.probability, out=rows.gathered)
        q = np.bincount(rows.owner, weights=rows.gathered, minlength=len(rows.reward)).astype(np.float64, copy=False)
        np.multiply(q, self.beta_f, out=q)
        np.add(q, rows.reward, out=q)
        return q

    def _magnitude(self, w: Vector) -> Fraction:
        return magnitude(np.asarray(w, dtype=np.float64))

    def choice_values(self, w: Vector) -> tuple[F, Fraction]:
        """Q̂_W(c) for every choice, and e_Q."""
        return self._q(self._all, w), self.choice_error(self._magnitude(w))

    def choice_values_of(self, choices: IntArray, w: Vector) -> tuple[F, Fraction]:
        """Q̂_W(c) for the given choices only (in that order), and e_Q.

        The rows of the last call are kept in ``row_cache`` (which operators on the same model may
        share): a policy's step tables often repeat from step to step. Only the rows' successors
        and probabilities are shared; each operator uses its own rewards.
        """
        last = self.row_cache.get("rows")
        if last is None or not np.array_equal(last[0], choices):
            last = self.row_cache["rows"] = (np.array(choices, copy=True), self._rows(choices))
        shared: _Rows = last[1]
        rows = _Rows(shared.owner, shared.target, shared.probability, self.r[choices], shared.gathered)
        return self._q(rows, w), self.choice_error(self._magnitude(w))

    def optimal(self, w: Vector) -> tuple[F, Fraction]:
        """(T* W) to within the returned error, at every state."""
        slots = self.star_layout()
        if slots is None:
            q, err = self.choice_values(w)
            return np.maximum.reduceat(q, self.mdp.choice_start[:-1]), err
        err = self.choice_error(self._magnitude(w))

        def best(b: int, values: F, out: F) -> float:  # repeated slots hold the very same value: the max is exact
            np.max(values, axis=0, out=out)
            return 0.0

        return self._slot_pass(slots, w, best)[0], err

    def policy(self, layer: PolicyLayer, w: Vector) -> tuple[F, Fraction]:
        """(T_π W) to within the returned error where the layer is defined, 0 elsewhere."""
        cached = self._layers.get(id(layer))
        if cached is None or cached[0] is not layer:
            cached = self._layer_rows(layer)
            self._layers[id(layer)] = cached
        _, rows, weights, m, owner = cached
        err = self.choice_error(self._magnitude(w))
        if isinstance(rows, SlotLayout):   # weights: blocks × slots × B, 0 on padding (exact zero terms)
            def mix(b: int, values: F, mixed: F) -> float:
                weight = weights[b]
                np.multiply(values[0], weight[0], out=mixed)
                for j in range(1, len(values)):
                    mixed += values[j] * weight[j]
                return float(np.max(np.abs(values)))

            out, top = self._slot_pass(rows, w, mix)
            q_max = Fraction(top)
        else:
            q = self._q(rows, w)
            q_max = Fraction(float(np.max(np.abs(q), initial=0.0)))
            np.multiply(q, weights, out=q)
            out = np.bincount(owner, weights=q, minlength=self.mdp.n_states).astype(np.float64, copy=False)
        err = round_up(err + 2 * (m + 5) * U * q_max + 2 * (m + 1) ** 2 * TAU)
        return out, err

    def _layer_rows(self, layer: PolicyLayer) -> tuple[PolicyLayer, _Rows | SlotLayout, F, int, IntArray]:
        """A layer's choices as `SlotLayout` (entry j of state s in slot j; weight 0 on padding, and a
        state without entries takes its first choice at weight 0), else as `_Rows`."""
        weights = layer.probability.floats()
        _normal_or_zero(weights, "policy probability")
        counts = np.diff(layer.start)
        m = int(counts.max(initial=1))
        if len(layer.choice):
            slot = np.arange(m)[:, None]
            entry = np.minimum(layer.start[:-1] + np.minimum(slot, np.maximum(counts - 1, 0)), len(layer.choice) - 1)
            used = slot < counts
            choice = np.where(used, layer.choice[entry], self.mdp.choice_start[:-1])
            laid = self._slots(choice.astype(np.int64))
            if laid is not None:
                by_slot = np.zeros((m, len(laid.target) * laid.block))
                by_slot[:, : self.mdp.n_states] = np.where(used, weights[entry], 0.0)
                slot_weights = by_slot.reshape(m, len(laid.target), laid.block).transpose(1, 0, 2)
                return layer, laid, np.ascontiguousarray(slot_weights), m, np.zeros(0, dtype=np.int64)
        owner = np.repeat(np.arange(self.mdp.n_states, dtype=np.int64), counts)
        return layer, self._rows(layer.choice.astype(np.int64)), weights, m, owner

    def q(self, c: int, w: Vector) -> Fraction:
        """Q̂_W(c) of one choice (for messages; the error is that of `choice_values`)."""
        return Fraction(float(self.choice_values(w)[0][c]))


# -- steps on bounds --------------------------------------------------------------------------
def step(values: V, err: Fraction, beta: Fraction, bound: Bound[Any]) -> Bound[V]:
    """The bound T(bound) from T(centre) (computed to within ``err``): offsets times β, plus err."""
    return Bound(values, round_up(beta * bound.down + err), round_up(beta * bound.up + err))
