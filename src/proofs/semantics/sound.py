"""Sound float enclosures of `Quantity` values, for models too large for `Fraction`.

Search is in floats; every reported number is an enclosure proved either by rigorous interval
arithmetic (`proofs.kernel.rounding`) or by the a-priori error analysis below:

- bounded optimum (`optimise` with a step bound, the fast path): ONE float backward induction
  (a sparse matrix-vector product per step) and, beside it, a rigorous scalar bound e_t on the
  distance between the float iterate and the exact value function; the result is V_0 ± e_0;
- bounded policy value (`evaluate_policy`): backward induction on intervals [lo, hi] throughout;
- geometric fixed points: float value iteration (untrusted) to a candidate W, then one sound
  interval Bellman step T: if every component of T(W) − W lies in [a, b] then, T being monotone
  and a β-contraction in the sup norm, the fixed point lies in [W + min(a,0)/(1−β), W + max(b,0)/(1−β)].
  Where W comes from does not matter for soundness (`optimise` searches with the fast float
  step below, `evaluate_policy` with interval midpoints).
Credal models are not handled here (see `exact`).

Soundness of the fast bounded optimum
-------------------------------------
The rounding-error model is `proofs.kernel.rounding` (F1–F4 there; u = 2**-53, τ = 2**-1074,
γ_k = k·u/(1 − k·u)). Every scalar of the bound below is an exact `Fraction`; the running bound
is rounded UP to a float after each step (`float_up`), so no scalar rounding needs an argument.
Notation: a choice c has the successors j = 1..n_c, N = max_c n_c.

Exact recursion (the semantics of `episode.Quantity`, as the interval path computes it):
W_L = g·[stop]; for t < L, W_t(s) = g(s) on stop states, 0 on a state without choices, else
opt_{c∈s} Q_t(c) with Q_t(c) = r_c + Σ_j p_cj·y_t(t_cj) and y_t(s') = β·W_{t+1}(s') on non-stop
s', (β + η)·g(s') on stop s' (there W_{t+1} = g).

Float recursion: V_L = W_L (0/1, exact); ỹ(s') = fl(β̃·V_{t+1}(s')) on non-stop s' (no
operation when β = 1), c̃·g(s') on stop s'; Q̃(c) = fl(r̃_c + Σ_j p̃_cj·ỹ(t_cj)) by one sparse
matrix-vector product accumulating onto r̃ (any order of summation, FMA or not); V_t(s) =
opt_{c∈s} Q̃(c) (max/min is exact), g(s) on stop states, 0 without choices. Here β̃ = fl(β),
c̃ = fl(β + η), δβ = |β̃ − β| and ε_stop = |c̃ − (β + η)| exactly.

Inputs. The probabilities and rewards are `Rationals.floats`, within F2's `Conversion` of the
exact values. The rows of probabilities give F4's `Rows.of_floats`: σ ≥ Σ_j |p̃_cj| (float row
sums), D ≥ Σ_j |p̃_cj − p_cj| and ρ ≥ Σ_j |p_cj|; for the rewards R_abs = max_c |r̃_c| and
R_err ≥ max_c |r̃_c − r_c| (`Conversion.error`).

One step. Let e_{t+1} ≥ max_s |V_{t+1}(s) − W_{t+1}(s)| (e_L = 0), M_V = max_s |V_{t+1}(s)|,
M_y = max_s |ỹ(s)| (both computed exactly as float maxima).
1. |ỹ(s') − y_t(s')| ≤ ε_y + |β|·e_{t+1} with ε_y = max(ε_stop, product_error(β, δβ, M_V, 0))
   (F1; the ε_stop term only when there are stop states, the second only when β ≠ 1; stop
   states have V = W exactly).
2. F4 with b̃ = r̃_c, x̃ = ỹ and |x̃ − x| ≤ ε_y + |β|·e_{t+1}, plus |r̃_c − r_c| ≤ R_err, bounds
   |Q̃(c) − Q_t(c)|; and |opt_c a_c − opt_c b_c| ≤ max_c |a_c − b_c| (stop states and states
   without choices have error 0). Hence
       e_t = R_err + γ_{N+1}·(R_abs + σ·M_y) + N·τ + D·M_y + ρ·(ε_y + |β|·e_{t+1})
   bounds max_s |V_t(s) − W_t(s)|; e_t is computed in `Fraction` and rounded up.
The result is [fl(V_0 − e_0) one ulp down, fl(V_0 + e_0) one ulp up] (one rounding each,
covered by the ulp), exactly g on stop states and 0 on states without choices. A non-finite
float anywhere (overflow) abandons the fast path for the interval path.

Policies. The greedy choice per state and step comes from the float Q̃ (ties to the lowest
index); it is untrusted (only the value is an enclosure), as before. Consecutive equal layers
share one `PolicyLayer`, and the layers share their ``start``/``probability`` arrays.

Layout. When every state has at most k choices and k·n_states is at most twice the number of
choices, the choices are laid out as a k × n_states table (choice i of state s in row i,
missing choices as empty matrix rows with reward ∓inf that can never be optimal), so max and
argmax are k elementwise vector operations; otherwise per-state segment reductions. The layout
changes no number of the analysis (padding rows are never chosen; a state whose row is all
padding has no choices and is set to 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import numpy.typing as npt

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.policy import Policy, PolicyLayer
from proofs.kernel import rounding as iv
from proofs.kernel.episode import Quantity
from proofs.kernel.rounding import Conversion, Rows, float_up, product_error

__all__ = ["Box", "SoundModel", "evaluate_policy", "optimise"]

F = npt.NDArray[np.float64]
Box = tuple[F, F]
IntArray = npt.NDArray[np.int64]

_PAD_RATIO = 2.0  # use the padded k × n layout when k·n_states <= _PAD_RATIO · n_choices


# -- exact scalar helpers --------------------------------------------------------------------------
def _frac_box(x: Fraction) -> tuple[float, float]:
    f = float(x)
    lo, hi = np.nextafter(f, -np.inf), np.nextafter(f, np.inf)
    return (f, f) if Fraction(f) == x else (float(lo), float(hi))


# -- the fast model: probabilities as a sparse matrix, once per model ------------------------------
@dataclass(frozen=True, eq=False)
class _Layout:
    """Rows of the matrix (choices, possibly padded) and how choices map to them."""

    n_rows: int
    indptr: npt.NDArray[np.integer]
    indices: npt.NDArray[np.integer]
    data: F
    width: int | None            # k of the padded k × n table, or None for the natural order
    place: IntArray | None       # padded: the row of every choice
    has_choice: npt.NDArray[np.bool_] | None  # None when every state has a choice


@dataclass(frozen=True, eq=False)
class _Fast:
    layout: _Layout
    rows: Rows         # N, σ, D and ρ of the probabilities (module docstring)


def _index_dtype(mdp: Mdp) -> type[np.integer]:
    big = max(mdp.n_transitions, mdp.n_states, mdp.n_choices)
    return np.int32 if big < 2**31 - 1 else np.int64


def _layout(mdp: Mdp, p: F, padded: bool | None) -> _Layout:
    idx = _index_dtype(mdp)
    n, nc = mdp.n_states, mdp.n_choices
    counts = np.diff(mdp.choice_start)
    width = int(counts.max(initial=0))
    has = counts > 0
    has_choice = None if bool(np.all(has)) else has
    if padded is None:
        padded = width > 0 and width * n <= _PAD_RATIO * nc
    if not padded or width == 0:
        return _Layout(nc, mdp.row_start.astype(idx), mdp.target.astype(idx), p, None, None, has_choice)
    from scipy.sparse import csr_matrix

    starts = mdp.choice_start[:-1]
    # choices in padded-row order: all first choices (by state), then all second choices, ...
    order = np.concatenate([starts[counts > k] + k for k in range(width)])
    local = np.arange(nc, dtype=np.int64) - np.repeat(starts, counts)
    place = local * n + mdp.choice_state
    natural = csr_matrix((p, mdp.target.astype(idx), mdp.row_start.astype(idx)), shape=(nc, n))
    rows = natural[order]  # the rows in padded order, entries in their order
    row_len = np.zeros(width * n, dtype=np.int64)
    row_len[place[order]] = np.diff(rows.indptr)
    indptr = np.zeros(width * n + 1, dtype=np.int64)
    np.cumsum(row_len, out=indptr[1:])
    return _Layout(width * n, indptr.astype(rows.indices.dtype), rows.indices, np.asarray(rows.data, dtype=np.float64),
                   width, place, has_choice)


def _fast_model(mdp: Mdp, padded: bool | None = None) -> _Fast:
    assert mdp.probability is not None
    p = mdp.float_probability
    rows = Rows.of_floats(p, mdp.row_start, Conversion.of(mdp.probability))
    return _Fast(_layout(mdp, p, padded), rows)


@dataclass(frozen=True, eq=False)
class SoundModel:
    """Float views and enclosures of an `Mdp`'s probabilities, computed lazily once per model.

    ``p_lo``/``p_hi`` enclose every probability (the interval path); ``fast`` is the sparse
    matrix of float probabilities with the bounds of the module docstring (the fast path).
    """

    mdp: Mdp

    @classmethod
    def of(cls, mdp: Mdp) -> SoundModel:
        if mdp.probability is None:
            raise ValueError("credal models are evaluated exactly")
        return cls(mdp)

    @cached_property
    def _enclosure(self) -> Box:
        assert self.mdp.probability is not None
        lo, hi = self.mdp.probability.enclosure()
        return np.maximum(lo, 0.0), hi

    @property
    def p_lo(self) -> F:
        return self._enclosure[0]

    @property
    def p_hi(self) -> F:
        return self._enclosure[1]

    @cached_property
    def fast(self) -> _Fast:
        return _fast_model(self.mdp)


# -- sparse product --------------------------------------------------------------------------------
def _matvec_add(layout: _Layout, x: F, out: F) -> None:
    """out += P̃·x (one accumulation per row, onto out's value)."""
    try:
        from scipy.sparse import _sparsetools
    except ImportError:  # pragma: no cover - private scipy module moved
        from scipy.sparse import csr_matrix

        out += csr_matrix((layout.data, layout.indices, layout.indptr), shape=(layout.n_rows, len(x))) @ x
        return
    _sparsetools.csr_matvec(layout.n_rows, len(x), layout.indptr, layout.indices, layout.data, x, out)


# -- interval path (evaluation of policies, certification of fixed points, fallback) ---------------
def _terminal(q: Quantity) -> Box:
    g = (q.stop & q.stop_value).astype(np.float64)
    return g, g.copy()


def _choice_box(m: SoundModel, q: Quantity, w: Box, r: Box) -> Box:
    """Enclosure of r(c) + Σ P·(β W + η g[stop]) for every choice c."""
    b_lo, b_hi = _frac_box(q.beta)
    nv_lo, nv_hi = iv.scale_nonneg(b_lo, b_hi, w[0], w[1])
    if q.eta and q.has_stops:
        e_lo, e_hi = _frac_box(q.eta)
        g = (q.stop & q.stop_value).astype(np.float64)
        nv_lo, nv_hi = iv.add(nv_lo, nv_hi, e_lo * g - iv.TINY * g, e_hi * g + iv.TINY * g)
    t = m.mdp.target
    prod = iv.mul_nonneg(m.p_lo, m.p_hi, nv_lo[t], nv_hi[t])
    s_lo, s_hi = iv.segment_sum(prod[0], prod[1], m.mdp.row_start)
    return iv.add(s_lo, s_hi, r[0], r[1])


def _policy_box(layer: PolicyLayer, qc: Box, n: int) -> tuple[Box, npt.NDArray[np.bool_]]:
    p_lo, p_hi = layer.probability.enclosure()
    prod = iv.mul_nonneg(np.maximum(p_lo, 0.0), p_hi, qc[0][layer.choice], qc[1][layer.choice])
    lo, hi = iv.segment_sum(prod[0], prod[1], layer.start)
    return (lo, hi), np.diff(layer.start) > 0


def _best_box(m: SoundModel, qc: Box, maximise: bool) -> Box:
    reduce = np.maximum if maximise else np.minimum
    starts = m.mdp.choice_start
    lo: F = iv.segment_reduce(reduce, qc[0], starts).astype(np.float64, copy=False)
    hi: F = iv.segment_reduce(reduce, qc[1], starts).astype(np.float64, copy=False)
    return lo, hi


def _keep_stops(q: Quantity, new: Box, old: Box) -> Box:
    return np.where(q.stop, old[0], new[0]), np.where(q.stop, old[1], new[1])


def evaluate_policy(m: SoundModel, q: Quantity, policy: Policy) -> Box:
    """Enclosure of the quantity's value under a Markov policy, at every state."""
    r = q.reward.enclosure()
    n = m.mdp.n_states
    if q.steps is not None:
        w = _terminal(q)
        for t in reversed(range(q.steps)):
            qc = _choice_box(m, q, w, r)
            val, defined = _policy_box(policy.at(t), qc, n)
            val = (np.where(defined, val[0], 0.0), np.where(defined, val[1], 0.0))
            w = _keep_stops(q, val, w)
        return w
    def apply(layer: PolicyLayer, w: Box, keep: Box) -> Box:
        val, defined = _policy_box(layer, _choice_box(m, q, w, r), n)
        return _keep_stops(q, (np.where(defined, val[0], 0.0), np.where(defined, val[1], 0.0)), keep)

    # the last layer repeats for ever (a certified fixed point); earlier layers are steps before it
    w = _certified_fixed_point(q, lambda box: apply(policy.layers[-1], box, _terminal(q)))
    for layer in reversed(policy.layers[:-1]):
        w = apply(layer, w, w)
    return w


def optimise(m: SoundModel, q: Quantity, maximise: bool = True) -> tuple[Box, Policy]:
    """Enclosure of the optimum of the quantity, and a (float-greedy, untrusted) optimal policy."""
    if q.steps is not None and q.steps > 0:
        try:
            return _bounded_optimum(m, m.fast, q, maximise)
        except ArithmeticError:
            pass  # overflow or rows too long for the analysis: the interval path below
    r = q.reward.enclosure()
    if q.steps is not None:
        w = _terminal(q)
        layers = []
        for _ in reversed(range(q.steps)):
            qc = _choice_box(m, q, w, r)
            layers.append(_argbest(m, (qc[0] + qc[1]) / 2, maximise))
            w = _keep_stops(q, _best_box(m, qc, maximise), w)
        layers.reverse()
        return w, Policy(tuple(layers) or (_argbest(m, np.zeros(m.mdp.n_choices), maximise),))

    def bellman(w: Box) -> Box:
        return _keep_stops(q, _best_box(m, _choice_box(m, q, w, r), maximise), _terminal(q))

    box = _certified_fixed_point(q, bellman, _float_search(m, q, maximise))
    mid = (box[0] + box[1]) / 2
    qc = _choice_box(m, q, (mid, mid), r)
    return box, Policy.stationary(_argbest(m, (qc[0] + qc[1]) / 2, maximise))


def _argbest(m: SoundModel, qc: F, maximise: bool) -> PolicyLayer:
    """Per state the best choice by float value (ties to the lowest index)."""
    starts = m.mdp.choice_start
    key = qc if maximise else -qc
    best = iv.segment_reduce(np.maximum, key, starts, -np.inf)
    is_best = key >= np.repeat(best, np.diff(starts))
    idx = np.arange(len(qc))
    first = iv.segment_reduce(np.minimum, np.where(is_best, idx, len(qc)), starts, -1)
    return PolicyLayer.deterministic(m.mdp, first.astype(np.int64))


# -- the fast bounded optimum ----------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Step:
    """What one float Bellman step needs of a quantity (see the module docstring)."""

    reward: F                    # r̃ in the layout's row order (padding ∓inf)
    beta: float                  # β̃
    stop_y: F | None             # c̃·g on stop states (assigned into ỹ), None without stops
    stop: npt.NDArray[np.bool_] | None
    stop_v: F | None             # g on stop states
    work: F                      # scratch for Q̃ (reused: a fresh buffer per step costs page faults)


def _step_data(m: SoundModel, fast: _Fast, q: Quantity, maximise: bool) -> tuple[_Step, F]:
    """The step's data, and the rewards' floats r̃ (by choice)."""
    lay = fast.layout
    r_tilde = q.reward.floats()
    if lay.width is None:
        reward = r_tilde.copy()
    else:
        reward = np.full(lay.n_rows, -np.inf if maximise else np.inf)
        assert lay.place is not None
        reward[lay.place] = r_tilde
    stop = stop_y = stop_v = None
    if q.has_stops:
        stop = q.stop
        g = (q.stop & q.stop_value).astype(np.float64)
        stop_v = g[stop]
        stop_y = float(q.beta + q.eta) * stop_v
    return _Step(reward, float(q.beta), stop_y, stop, stop_v, np.empty_like(reward)), r_tilde


def _float_step(m: SoundModel, fast: _Fast, step: _Step, v: F, maximise: bool,
                want_choice: bool) -> tuple[F, F, IntArray | None]:
    """One float Bellman step from V_{t+1} = v: (ỹ, V_t, greedy local choice index or None)."""
    lay = fast.layout
    y = v if step.beta == 1.0 else step.beta * v
    if step.stop is not None:
        if y is v:
            y = v.copy()
        y[step.stop] = step.stop_y
    q = step.work
    np.copyto(q, step.reward)
    _matvec_add(lay, y, q)
    n = m.mdp.n_states
    choice: IntArray | None = None
    if lay.width is not None:
        table = q.reshape(lay.width, n)
        best = np.max(table, axis=0) if maximise else np.min(table, axis=0)
        if want_choice:
            # priority width - k for a best choice k: the maximum picks the lowest index
            small = np.int8 if lay.width < 127 else np.int32
            rank = np.zeros(n, dtype=small)
            hit = np.empty(n, dtype=bool)
            tmp = np.empty(n, dtype=small)
            for k in range(lay.width):
                np.equal(table[k], best, out=hit)
                np.multiply(hit, small(lay.width - k), out=tmp)
                np.maximum(rank, tmp, out=rank)
            choice = np.subtract(m.mdp.choice_start[:-1] + lay.width, rank, dtype=np.int64)
    else:
        reduce = np.maximum if maximise else np.minimum
        best = iv.segment_reduce(reduce, q, m.mdp.choice_start, 0.0).astype(np.float64, copy=False)
        if want_choice:
            key = q if maximise else -q
            key_best = best if maximise else -best
            is_best = key >= np.repeat(key_best, np.diff(m.mdp.choice_start))
            idx = np.arange(len(q))
            first = iv.segment_reduce(np.minimum, np.where(is_best, idx, len(q)), m.mdp.choice_start, -1)
            choice = first.astype(np.int64, copy=False)
    if lay.has_choice is not None:
        best[~lay.has_choice] = 0.0
        if choice is not None:
            choice[~lay.has_choice] = -1
    if step.stop is not None:
        best[step.stop] = step.stop_v
    return y, best, choice


def _abs_max(x: F) -> float:
    """max |x_i| (exact; 0 for an empty x; nan propagates)."""
    return float(max(np.max(x), -np.min(x))) if len(x) else 0.0


def _bounded_optimum(m: SoundModel, fast: _Fast, q: Quantity, maximise: bool) -> tuple[Box, Policy]:
    assert q.steps is not None
    step, r_tilde = _step_data(m, fast, q, maximise)
    n = m.mdp.n_states
    r_top = float(np.max(np.abs(r_tilde), initial=0.0))
    if not math.isfinite(r_top):
        raise ArithmeticError("overflow in the float iteration")
    r_abs = Fraction(r_top)
    r_err = Conversion.of(q.reward).error(r_abs)
    beta = abs(q.beta)
    beta_err = abs(Fraction(step.beta) - q.beta)
    eps_stop = abs(Fraction(float(q.beta + q.eta)) - (q.beta + q.eta)) if q.has_stops else Fraction(0)

    v = _terminal(q)[0]
    e = 0.0
    shared_start = np.arange(n + 1, dtype=np.int64)
    ones = Rationals(np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64))
    layers: list[PolicyLayer] = []
    last: IntArray | None = None
    for _ in range(q.steps):
        m_v = _abs_max(v)
        y, v_new, choice = _float_step(m, fast, step, v, maximise, want_choice=True)
        m_y = m_v if y is v else _abs_max(y)
        if not (math.isfinite(m_y) and math.isfinite(m_v)):
            raise ArithmeticError("overflow in the float iteration")
        eps_y = eps_stop
        if q.beta != 1:
            eps_y = max(eps_y, product_error(q.beta, beta_err, Fraction(m_v), Fraction(0)))
        e = float_up(r_err + fast.rows.error(r_abs, Fraction(m_y), eps_y + beta * Fraction(e)))
        assert choice is not None
        if last is not None and np.array_equal(choice, last):
            layers.append(layers[-1])
        elif fast.layout.has_choice is None:
            layers.append(PolicyLayer(shared_start, choice, ones))
        else:
            layers.append(PolicyLayer.deterministic(m.mdp, choice))
        last = choice
        v = v_new
    if not (math.isfinite(e) and bool(np.all(np.isfinite(v)))):
        raise ArithmeticError("overflow in the float iteration")
    lo = np.nextafter(v - e, -np.inf)
    hi = np.nextafter(v + e, np.inf)
    exact_states = np.zeros(n, dtype=bool) if fast.layout.has_choice is None else ~fast.layout.has_choice
    if q.has_stops:
        exact_states |= q.stop
    lo = np.where(exact_states, v, lo)
    hi = np.where(exact_states, v, hi)
    layers.reverse()
    return (lo, hi), Policy(tuple(layers))


# -- geometric fixed points ------------------------------------------------------------------------
def _float_search(m: SoundModel, q: Quantity, maximise: bool) -> Callable[[F], F] | None:
    """The float Bellman operator of the optimum, for the (untrusted) fixed-point search."""
    try:
        fast = m.fast
    except ArithmeticError:
        return None
    step, _ = _step_data(m, fast, q, maximise)

    def search(w: F) -> F:
        return _float_step(m, fast, step, w, maximise, want_choice=False)[1]

    return search


def _certified_fixed_point(q: Quantity, bellman, search: Callable[[F], F] | None = None,  # type: ignore[no-untyped-def]
                           tol: float = 1e-12, max_iter: int = 100_000) -> Box:
    """Search a candidate W (with `search`, else interval midpoints), then certify it with `bellman`."""
    w = _terminal(q)[0]
    for _ in range(max_iter):
        if search is not None:
            nxt = search(w)
        else:
            lo, hi = bellman((w, w))
            nxt = (lo + hi) / 2
        if not np.all(np.isfinite(nxt)):
            break
        delta = float(np.max(np.abs(nxt - w), initial=0.0))
        w = nxt
        if delta <= tol * max(1.0, float(np.max(np.abs(w), initial=0.0))) * (1 - float(q.beta)):
            break
    lo, hi = bellman((w, w))
    a = min(float(np.min(lo - w, initial=0.0)), 0.0)
    b = max(float(np.max(hi - w, initial=0.0)), 0.0)
    # the differences above are rounded: widen them, and the division, outward
    a = float(np.nextafter(np.nextafter(a, -np.inf) * (1 + 4 * float(iv.U)), -np.inf))
    b = float(np.nextafter(np.nextafter(b, np.inf) * (1 + 4 * float(iv.U)), np.inf))
    beta_hi = _frac_box(q.beta)[1]
    one_minus = float(np.nextafter(1.0 - beta_hi, 0.0))  # a lower bound on 1 - β
    shift_lo = float(np.nextafter(a / one_minus, -np.inf))
    shift_hi = float(np.nextafter(b / one_minus, np.inf))
    out_lo, out_hi = iv.outward(w + shift_lo, w + shift_hi)
    g = _terminal(q)[0]
    return np.where(q.stop, g, out_lo), np.where(q.stop, g, out_hi)
