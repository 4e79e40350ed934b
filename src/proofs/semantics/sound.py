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
- credal (interval) models: the interval path, with nature's expectation enclosed as in
  "Credal models" below (finite horizons by backward induction on intervals, geometric fixed
  points certified as above: nature's robust operator is monotone and a β-contraction too).

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

Credal models
-------------
A credal choice c has successors j with exact interval bounds 0 ≤ l_j ≤ h_j, Σ_j l_j ≤ 1 ≤ Σ_j h_j
(checked when the model is loaded, `proofs.worldmodel.validate`); nature picks P in
𝒫(c) = {P : l ≤ P ≤ h, Σ P = 1} at every step, state and action. Q_t(c) = r_c + E(y_t) with
y_t as above and E(y) = min_{P∈𝒫(c)} Σ_j P_j·y(t_cj) when nature minimises; when it maximises,
max_P Σ P·y = −min_P Σ P·(−y), so everything below is said for the minimum E and applied to
−y with the results negated and swapped.

Monotonicity. P ≥ 0, so y ≤ y' elementwise gives Σ P·y ≤ Σ P·y' for every P, hence E(y) ≤ E(y').
The interval path carries floats y_lo ≤ y ≤ y_hi (from the enclosure [W_lo, W_hi] of W_{t+1}, as
for point models), so E(y) ∈ [E(a), E(b)] with a = y_lo, b = y_hi on the successors, and it
suffices to bound E(a) from below and E(b) from above, for float vectors a and b.

Floats of the intervals. From `Rationals.enclosure`: l̲ ≤ l ≤ l̄ and h̲ ≤ h ≤ h̄, with l̲ and h̲
raised to 0 when negative (still ≤ l, h as l, h ≥ 0); so all four are ≥ 0.

Lower bound (weak duality). For every real λ and every P ∈ 𝒫(c),
    Σ_j P_j·a_j = λ + Σ_j P_j·(a_j − λ) ≥ λ + Σ_j φ_j(a_j − λ),   φ_j(d) = min(l_j·d, h_j·d),
because Σ P_j = 1 and l_j ≤ P_j ≤ h_j. So L(λ) = λ + Σ_j φ_j(a_j − λ) ≤ E(a) for EVERY λ; it
equals E(a) at the greedy's split value (the successor receiving the last free mass), so that
is the λ used (`_split`). In floats: d_j = a_j − λ is a float difference whose sign is known
exactly (a_j < λ, a_j = λ or a_j > λ as floats); d̲_j = fl(a_j − λ) stepped one ulp down (F5)
is ≤ d_j; the term is l̲_j·d̲_j when d_j ≥ 0 (≤ l̲_j·d_j ≤ l_j·d_j) and h̄_j·d̲_j when d_j < 0
(≤ h̄_j·d_j ≤ h_j·d_j), in both cases ≤ φ_j(d_j). The products are rounded once each and summed
by one side of `rounding.segment_sum` (`_sum_bound`: ≤ the sum of the exact products), λ is added and the sum stepped one
ulp down (F5). The result is ≤ L(λ) ≤ E(a), whatever λ the float search produced.

Upper bound (a feasible distribution). Order the successors of c in any way and pick any
position k. Let P_j = h_j before k, P_j = l_j after k, and P_k = 1 − Σ_{j≠k} P_j; then Σ P = 1 and
    Σ_j P_j·b_j = b_k + Σ_{j<k} h_j·(b_j − b_k) + Σ_{j>k} l_j·(b_j − b_k) =: G(k)
exactly. With A_k = Σ_{j<k} h_j + Σ_{j≥k} l_j (so A_k ≤ A_{k+1}): P_k ≥ l_k iff A_k ≤ 1, and
P_k ≤ h_k iff A_{k+1} ≥ 1; at most one fails.
- If A_k > 1, set P'_k = l_k and remove ε = A_k − 1 from the positions before k, each staying
  ≥ l_j: their room Σ_{j<k} (h_j − l_j) = A_k − Σ_j l_j ≥ A_k − 1 suffices. P' ∈ 𝒫(c), and its
  value changes by Σ_{j<k} δ_j·(b_k − b_j) ≤ ε·(b_k − min_j b_j) (δ_j ≥ 0, Σ δ_j = ε).
- If A_{k+1} < 1, set P'_k = h_k and add ε = 1 − A_{k+1} to the positions after k (room
  Σ_j h_j − A_{k+1} ≥ ε); the value changes by at most ε·(max_j b_j − b_k).
Hence E(b) ≤ G(k) + max(0, A_k − 1)·(b_k − min b) + max(0, 1 − A_{k+1})·(max b − b_k) for EVERY
order and k. The float greedy's order and split (`_split`) make A_k ≤ 1 ≤ A_{k+1} up to
rounding, so the two corrections are of rounding size. In floats: G(k)'s terms are upper
bounds (d̄_j = fl(b_j − b_k) one ulp up ≥ d_j; factor h̄_j or l̄_j when d_j ≥ 0, h̲_j or l̲_j when
d_j < 0, all ≥ 0, so each term is ≥ h_j·d_j resp. l_j·d_j), summed by `_sum_bound` (upper side)
and stepped up after adding b_k; A_k is bounded above by `_sum_bound` of h̄ (before k) and l̄,
A_{k+1} below by that of h̲ (up to k) and l̲ (after); every remaining subtraction, product and
addition of non-negative or signed floats is rounded to nearest and stepped one ulp up (F5). A
NaN (from an overflow to ∞) is replaced by the trivial bound −∞ or +∞.

Both bounds hold for any λ, order and k, so the float search (a `np.argsort` by choice and by
the midpoint (a + b)/2, one per step; prefix sums of h̃ − l̃ within each row) is untrusted and
only decides how narrow the enclosure is. A row without successors has E = 0 (the exact path's
convention). Geometric fixed points: nature's operator T(W) (max or policy mixture over the
choices of r_c + β·E(W)) is monotone (above) and satisfies T(W + k·1) = T(W) + β·k since every
P ∈ 𝒫(c) sums to 1, so the certificate of the fixed point above applies unchanged; its fixed
point is the robust value the exact path computes (nature's strategy iteration).

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
    matrix of float probabilities with the bounds of the module docstring (the fast path);
    ``credal`` holds a credal model's interval bounds (module docstring, "Credal models").
    """

    mdp: Mdp

    @classmethod
    def of(cls, mdp: Mdp) -> SoundModel:
        return cls(mdp)

    @cached_property
    def credal(self) -> _Credal:
        return _Credal.of(self.mdp)

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


# -- credal models: nature's expectation (module docstring, "Credal models") -----------------------
@dataclass(frozen=True, eq=False)
class _Credal:
    """A credal model's interval bounds as floats, in transition order.

    ``lo_lo <= l <= lo_hi`` and ``hi_lo <= h <= hi_hi`` (all ≥ 0); ``span`` = h̃ − l̃ and ``free``
    = 1 − Σ l̃ per choice are plain floats for the (untrusted) greedy search.
    """

    starts: IntArray             # row_start: the transitions of choice c are starts[c]:starts[c+1]
    choice: IntArray             # the choice of every transition
    lo_lo: F
    lo_hi: F
    hi_lo: F
    hi_hi: F
    span: F
    free: F
    width: int | None            # N = the longest row, when the rows fit an n_choices × N table
    position: IntArray | None    # with ``width``: every transition's position in its row

    @classmethod
    def of(cls, mdp: Mdp) -> _Credal:
        if mdp.interval is None:
            raise ValueError("not a credal model: it has no interval probabilities")
        low, high = mdp.interval
        lo_lo, lo_hi = low.enclosure()
        hi_lo, hi_hi = high.enclosure()
        lo_f, hi_f = low.floats(), high.floats()
        starts = mdp.row_start.astype(np.int64, copy=False)
        free = 1.0 - _segment_add(lo_f, starts)
        counts = np.diff(starts)
        longest = int(counts.max(initial=0))
        width = position = None
        if 0 < longest and longest * mdp.n_choices <= _PAD_RATIO * mdp.n_transitions:
            width = longest
            position = np.arange(mdp.n_transitions, dtype=np.int64) - np.repeat(starts[:-1], counts)
        return cls(starts, mdp.transition_choice, np.maximum(lo_lo, 0.0), lo_hi, np.maximum(hi_lo, 0.0), hi_hi,
                   np.maximum(hi_f - lo_f, 0.0), free, width, position)


def _segment_add(x: F, starts: IntArray) -> F:
    """Float sums of the segments (empty ones 0); no bound, for search only."""
    out: F = iv.segment_reduce(np.add, x, starts, 0.0).astype(np.float64, copy=False)
    return out


def _split(cm: _Credal, w: F) -> tuple[IntArray, IntArray]:
    """The float greedy for min_P Σ P·w on every choice (UNTRUSTED search).

    Returns ``order`` (the transitions sorted by choice, then by w) and, per choice, the index in
    that order of the split position k: the last successor whose preceding spans h̃ − l̃ (in the
    order) sum to less than the free mass 1 − Σ l̃, else the first one. Rows without successors
    get their start (unused).
    """
    nnz = len(w)
    starts = cm.starts
    counts = np.diff(starts)
    order: IntArray
    if cm.width is not None:   # short rows: sort each row of a padded table (padding +inf, last)
        assert cm.position is not None
        table = np.full((len(counts), cm.width), np.inf)
        table[cm.choice, cm.position] = w
        columns = np.argsort(table, axis=1, kind="stable")
        order = (starts[:-1, None] + columns)[columns < counts[:, None]]
    else:
        by_value = np.argsort(w)
        rank = np.empty(nnz, dtype=np.int64)
        rank[by_value] = np.arange(nnz, dtype=np.int64)
        order = np.argsort(cm.choice * nnz + rank, kind="stable")
    span = cm.span[order]
    nonempty = counts > 0
    first = starts[:-1][nonempty]
    # prefix sums within each row; the running sum is reset at every row start (the total of
    # the previous row subtracted), so it stays of the size of one row's mass
    adjusted = span.copy()
    totals = np.add.reduceat(span, first) if len(first) else np.zeros(0)
    adjusted[first[1:]] -= totals[:-1]
    running = np.cumsum(adjusted)
    base = running[first] - span[first]
    before = running - span - np.repeat(base, counts[nonempty])   # spans before each position
    receives = before < cm.free[cm.choice]
    n_receive = iv.segment_reduce(np.add, receives.astype(np.int64), starts, 0).astype(np.int64)
    k: IntArray = starts[:-1] + np.maximum(n_receive - 1, 0)
    return order, k


def _sum_bound(terms: F, starts: IntArray, up: bool, nonnegative: bool = False) -> F:
    """A float ≥ (``up``) or ≤ the exact sum of each segment of ``terms``, each term carrying at
    most one rounding of a product: one side of `proofs.kernel.rounding.segment_sum` (the same
    widening, from its module docstring); empty segments 0."""
    total = _segment_add(terms, starts)
    magnitude = total if nonnegative else _segment_add(np.abs(terms), starts)
    n = np.diff(starts).astype(np.float64) + 2.0
    err = 2.0 * n * 2.0**-53 * magnitude + n * iv.TINY
    out: F = _up(total + err) if up else _down(total - err)
    out[starts[1:] == starts[:-1]] = 0.0
    return out


def _up(x: F) -> F:
    out: F = np.nextafter(x, np.inf)
    return out


def _down(x: F) -> F:
    out: F = np.nextafter(x, -np.inf)
    return out


def _min_expectation(cm: _Credal, a: F, b: F) -> Box:
    """Floats ``lo <= min_P Σ P·a`` and ``hi >= min_P Σ P·b`` per choice (a, b by transition).

    The lower end is the dual bound at the float greedy's split value, the upper end the value of
    the greedy's distribution made feasible (module docstring, "Credal models").
    """
    starts, choice = cm.starts, cm.choice
    order, k = _split(cm, a / 2 + b / 2)
    a, b = a[order], b[order]
    lo_lo, lo_hi, hi_lo, hi_hi = cm.lo_lo[order], cm.lo_hi[order], cm.hi_lo[order], cm.hi_hi[order]
    empty = starts[1:] == starts[:-1]
    k_safe = np.where(empty, 0, k) if len(a) else k
    # lower end: λ + Σ φ_j(a_j − λ) with λ = a at the split
    lam = a[k_safe] if len(a) else np.zeros(len(k))
    lam_t = lam[choice]
    d_lo = _down(a - lam_t)
    terms = np.where(a < lam_t, hi_hi * d_lo, lo_lo * d_lo)
    lower = _down(lam + _sum_bound(terms, starts, up=False))
    # upper end: G(k) plus the two corrections
    lam = b[k_safe] if len(b) else np.zeros(len(k))
    lam_t = lam[choice]
    d_hi = _up(b - lam_t)
    position = np.arange(len(b), dtype=np.int64)
    k_t = k[choice]
    ahead, at = position < k_t, position == k_t
    nonneg = b >= lam_t
    factor = np.where(ahead, np.where(nonneg, hi_hi, hi_lo), np.where(nonneg, lo_hi, lo_lo))
    terms = np.where(at, 0.0, factor * d_hi)
    g_hi = _up(lam + _sum_bound(terms, starts, up=True))
    mass_k = np.where(ahead, hi_hi, lo_hi)            # A_k from above
    mass_k1 = np.where(ahead | at, hi_lo, lo_lo)      # A_{k+1} from below
    a_k = _sum_bound(mass_k, starts, up=True, nonnegative=True)
    a_k1 = _sum_bound(mass_k1, starts, up=False, nonnegative=True)
    over = np.maximum(_up(a_k - 1.0), 0.0)
    under = np.maximum(_up(1.0 - a_k1), 0.0)
    b_min = iv.segment_reduce(np.minimum, b, starts, 0.0).astype(np.float64, copy=False)
    b_max = iv.segment_reduce(np.maximum, b, starts, 0.0).astype(np.float64, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        left = _up(over * _up(lam - b_min))
        right = _up(under * _up(b_max - lam))
        upper = _up(_up(g_hi + left) + right)
    lower = np.where(np.isnan(lower), -np.inf, lower)
    upper = np.where(np.isnan(upper), np.inf, upper)
    lower[empty] = 0.0
    upper[empty] = 0.0
    return lower, upper


def _credal_expectation(cm: _Credal, y: Box, target: IntArray, nature: int) -> Box:
    """Enclosure of nature's Σ P·y per choice for y in the box (nature = -1 min, +1 max)."""
    y_lo, y_hi = y[0][target], y[1][target]
    if nature < 0:
        return _min_expectation(cm, y_lo, y_hi)
    lo, hi = _min_expectation(cm, -y_hi, -y_lo)
    return -hi, -lo


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


def _choice_box(m: SoundModel, q: Quantity, w: Box, r: Box, nature: int = -1) -> Box:
    """Enclosure of r(c) + Σ P·(β W + η g[stop]) for every choice c (credal: nature's P)."""
    b_lo, b_hi = _frac_box(q.beta)
    nv_lo, nv_hi = iv.scale_nonneg(b_lo, b_hi, w[0], w[1])
    if q.eta and q.has_stops:
        e_lo, e_hi = _frac_box(q.eta)
        g = (q.stop & q.stop_value).astype(np.float64)
        nv_lo, nv_hi = iv.add(nv_lo, nv_hi, e_lo * g - iv.TINY * g, e_hi * g + iv.TINY * g)
    t = m.mdp.target
    if m.mdp.is_credal:
        s_lo, s_hi = _credal_expectation(m.credal, (nv_lo, nv_hi), t, nature)
        return iv.add(s_lo, s_hi, r[0], r[1])
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


def evaluate_policy(m: SoundModel, q: Quantity, policy: Policy, nature: int = -1) -> Box:
    """Enclosure of the quantity's value under a Markov policy, at every state.

    On a credal model nature picks every step's distribution within the intervals to make the
    value lowest (``nature=-1``) or highest (``+1``); point models ignore ``nature``.
    """
    r = q.reward.enclosure()
    n = m.mdp.n_states
    if q.steps is not None:
        w = _terminal(q)
        for t in reversed(range(q.steps)):
            qc = _choice_box(m, q, w, r, nature)
            val, defined = _policy_box(policy.at(t), qc, n)
            val = (np.where(defined, val[0], 0.0), np.where(defined, val[1], 0.0))
            w = _keep_stops(q, val, w)
        return w
    def apply(layer: PolicyLayer, w: Box, keep: Box) -> Box:
        val, defined = _policy_box(layer, _choice_box(m, q, w, r, nature), n)
        return _keep_stops(q, (np.where(defined, val[0], 0.0), np.where(defined, val[1], 0.0)), keep)

    # the last layer repeats for ever (a certified fixed point); earlier layers are steps before it
    w = _certified_fixed_point(q, lambda box: apply(policy.layers[-1], box, _terminal(q)))
    for layer in reversed(policy.layers[:-1]):
        w = apply(layer, w, w)
    return w


def optimise(m: SoundModel, q: Quantity, maximise: bool = True, nature: int | None = None) -> tuple[Box, Policy]:
    """Enclosure of the optimum of the quantity, and a (float-greedy, untrusted) optimal policy.

    On a credal model nature minimises (``nature=-1``) or maximises (``+1``) at every step; by
    default it works against the optimiser. Point models ignore ``nature``.

    Examples
    --------
    >>> from tests.support.mdps import make_mdp
    >>> from proofs.kernel.episode import objective_quantity
    >>> from proofs.core.objective import Objective
    >>> mdp = make_mdp(["s", "t"], {"s": [("go", {"s": ("1/4", "3/4"), "t": ("1/4", "3/4")})],
    ...                             "t": [("stay", {"t": 1})]}, rewards={"r": {("s", "go"): 1}})
    >>> (lo, hi), _ = optimise(SoundModel.of(mdp), objective_quantity(mdp, Objective("r", 2)))
    >>> bool(lo[0] <= 1.25 <= hi[0]) and float(hi[0] - lo[0]) < 1e-12   # 1 + 1/4 (nature leaves s)
    True
    """
    if nature is None:
        nature = -1 if maximise else 1
    if q.steps is not None and q.steps > 0 and not m.mdp.is_credal:
        try:
            return _bounded_optimum(m, m.fast, q, maximise)
        except ArithmeticError:
            pass  # overflow or rows too long for the analysis: the interval path below
    r = q.reward.enclosure()
    if q.steps is not None:
        w = _terminal(q)
        layers = []
        for _ in reversed(range(q.steps)):
            qc = _choice_box(m, q, w, r, nature)
            layers.append(_argbest(m, (qc[0] + qc[1]) / 2, maximise))
            w = _keep_stops(q, _best_box(m, qc, maximise), w)
        layers.reverse()
        return w, Policy(tuple(layers) or (_argbest(m, np.zeros(m.mdp.n_choices), maximise),))

    def bellman(w: Box) -> Box:
        return _keep_stops(q, _best_box(m, _choice_box(m, q, w, r, nature), maximise), _terminal(q))

    box = _certified_fixed_point(q, bellman, _float_search(m, q, maximise))
    mid = (box[0] + box[1]) / 2
    qc = _choice_box(m, q, (mid, mid), r, nature)
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
    """The float Bellman operator of the optimum, for the (untrusted) fixed-point search.

    None for credal models (they search with interval midpoints)."""
    if m.mdp.is_credal:
        return None
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
