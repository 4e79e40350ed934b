"""Sound float enclosures of an unbounded `Problem`: interval iteration with outward rounding.

UNTRUSTED search, sound result: every number returned is a float bound proved below.

Reduction. After the graph precomputations (`unbounded_graph`) the region is solved on a
*reduced system*: one group per maximal end component to collapse (P^max: every end component
of the region; R^min: the zero-reward ones; Haddad–Monmege 2018, Baier et al. CAV 2017) and one
per other region state. A group's rows are the allowed choices of its states except the
choices internal to its end component; entries into decided states are folded into a constant
b_c = r_c + Σ_{t decided} P(t|c)·value(t). The Bellman operator of the reduced system,
F(x)_g = opt_{c∈g} (b_c + Σ_j p_cj·x_j), has the problem's values V* as a fixed point, and
every policy of the reduced system is proper (leaves the region almost surely), except, for
R^min, by end components that contain a positive reward. Hence, F being monotone:

* U is an upper bound (U ≥ V*) when F(U) ≤ U: take an optimal proper policy π* (max
  problems) or the optimal choice at U, σ (min problems: a recurrent class of σ inside the
  region would have zero reward, i.e. be a zero-reward end component, but those are collapsed),
  and iterate U ≥ r + P U along it; for proper policies P^n → 0.
* L is a lower bound when L ≤ F(L) (symmetrically).
* From bounds L ≤ V* ≤ U, the images stay bounds: F(L) ≤ F(V*) = V* ≤ F(U).

Probabilities start from the trivial bounds L = 0 (F(0) = b ≥ 0) and U = 1 (rows sum to at most
1). Rewards start from guesses v ∓ h·W around a float fixed point v (plain value iteration),
where W ≈ 2·(expected number of steps in the region) + 2 satisfies W − P_c·W ≥ 1 for the rows
that matter, so the shift h·W contracts by h at every state and beats v's residual (optimistic
value iteration, Hartmanns–Kaminski CAV 2020); h is the width wanted at μ₀ over 4·W(μ₀), and at
least 16 times the rounding of one sound step. A guess is used only once F↑(U) ≤ U (or
F↓(L) ≥ L) has been checked; otherwise L = 0 when every reward is ≥ 0, and the search is
retried with a tighter v (an `ArithmeticError` when no upper bound is ever verified). Then
interval iteration L ← max(L, F↓(L)), U ← min(U, F↑(U)) runs until the enclosure at μ₀ is narrow
enough, stops narrowing (rounding noise), or the budget is spent; the bounds are returned
honestly in every case. The choices of the float search (v, W, h) never matter for soundness.

Outward rounding of F. The rounding-error model is `proofs.kernel.rounding` (F1–F5 there).
F↑(x) is computed as fl(b↑_c + Σ_j p̃_cj·x_j) by one sparse product accumulating onto the row's
constant (any order, FMA or not), the maximum/minimum over rows (exact), then
fl(best + e) rounded one ulp up; F↓ symmetrically with b↓ and −e, one ulp down. Here
b↓ ≤ b_c ≤ b↑ are rigorous (the interval operations of `proofs.kernel.rounding`), p̃ the float
probabilities, and e is F4 with x exact (the iterate's floats are the point where F is taken):

    e = γ_{N+1}·(B + σ·M) + N·τ + D·M,    γ_k = k·u / (1 − k·u),

with N the longest row, M = max|x|, B = max|b↑| (resp. |b↓|), σ ≥ Σ_j |p̃_cj| and
D ≥ Σ_j |p̃_cj − p_cj| for every row (`Rows.of_floats`: σ from float row sums, D from F2's
conversion of the probabilities). e is computed in `Fraction` and rounded up, so no scalar
rounding needs an argument. Probabilities are clipped to [0, 1] (sound: F maps into it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.model import concat_ranges
from proofs.kernel import rounding as iv
from proofs.kernel.rounding import Conversion, Rows, float_up
from proofs.semantics.unbounded_graph import Graph, Problem, end_components, exists_attractor

__all__ = ["Bounds", "Groups", "first_best", "groups", "routed_policy", "solve_sound"]

F = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]



@dataclass(frozen=True, eq=False)
class _System:
    """The reduced system (module docstring): groups, their rows, float probabilities into groups."""

    n: int
    group: IntArray            # per model state, its group (-1 outside the region)
    row_start: IntArray        # the rows of group g are row_start[g]:row_start[g+1]
    row_choice: IntArray       # the model's choice of each row
    indptr: npt.NDArray[np.integer]
    indices: npt.NDArray[np.integer]
    data: F
    b_lo: F
    b_hi: F
    matrix: Rows               # N, σ and D of the float matrix (module docstring)
    maximise: bool
    internal: npt.NDArray[np.bool_]  # the collapsed end components' internal choices

    def products(self, x: F, constant: F) -> F:
        """constant + P̃·x, one float accumulation per row."""
        out = constant.copy()
        try:
            from scipy.sparse import _sparsetools
        except ImportError:  # pragma: no cover - private scipy module moved
            from scipy.sparse import csr_matrix

            product: F = csr_matrix((self.data, self.indices, self.indptr), shape=(len(out), self.n)) @ x
            return out + product
        _sparsetools.csr_matvec(len(out), self.n, self.indptr, self.indices, self.data, x, out)
        return out

    def best(self, rows: F) -> F:
        reduce = np.maximum if self.maximise else np.minimum
        result: F = reduce.reduceat(rows, self.row_start[:-1]) if self.n else np.zeros(0)
        return result

    def rounding(self, x: F, b: F) -> float:
        """e of the module docstring: |F(x) − computed| <= e for every group."""
        m = float(np.max(np.abs(x), initial=0.0))
        big = float(np.max(np.abs(b), initial=0.0))
        if not (math.isfinite(m) and math.isfinite(big)):
            raise ArithmeticError("overflow in the float iteration")
        return float_up(self.matrix.error(Fraction(big), Fraction(m)))

    def step(self, x: F, upper: bool) -> F:
        """F↑(x) (upper) or F↓(x): a sound bound on F(x) (module docstring)."""
        b = self.b_hi if upper else self.b_lo
        best = self.best(self.products(x, b))
        e = self.rounding(x, b)
        if upper:
            return np.nextafter(best + e, np.inf)
        return np.nextafter(best - e, -np.inf)


@dataclass(frozen=True, eq=False)
class Groups:
    """The reduced system's groups (module docstring): one per collapsed end component, one per
    other region state; ``rows`` the allowed choices of the region except the collapsed components'
    internal ones, sorted by group, group k's at ``row_start[k]:row_start[k+1]``."""

    n: int
    group: IntArray            # per model state, its group (-1 outside the region)
    rows: IntArray
    row_start: IntArray
    internal: npt.NDArray[np.bool_]


def groups(g: Graph, problem: Problem) -> Groups:
    """The problem's `Groups` (shared with `proofs.semantics.unbounded_credal`)."""
    mdp = problem.mdp
    n_states = mdp.n_states
    if problem.collapse is not None:
        label, internal = end_components(g, problem.region, problem.collapse)
    else:
        label, internal = np.full(n_states, -1, dtype=np.int64), np.zeros(mdp.n_choices, dtype=bool)
    group = np.full(n_states, -1, dtype=np.int64)
    n_ec = int(label.max(initial=-1)) + 1
    group[label >= 0] = label[label >= 0]
    single = problem.region & (label < 0)
    group[single] = n_ec + np.arange(int(single.sum()), dtype=np.int64)
    n = n_ec + int(single.sum())
    rows = np.flatnonzero(problem.allowed & ~internal)
    owner = group[g.choice_state[rows]]
    order = np.argsort(owner, kind="stable")
    rows, owner = rows[order], owner[order]
    counts = np.bincount(owner, minlength=n)
    if np.any(counts == 0):  # pragma: no cover - guaranteed by the precomputations
        raise AssertionError("a region state or end component without an exit")
    row_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=row_start[1:])
    return Groups(n, group, rows, row_start, internal)


def first_best(values: F, row_start: IntArray, maximise: bool) -> IntArray:
    """Per group (rows ``row_start[k]:row_start[k+1]``) the first row attaining its best value."""
    best = (np.maximum if maximise else np.minimum).reduceat(values, row_start[:-1])
    hit = values == np.repeat(best, np.diff(row_start))
    index = np.where(hit, np.arange(len(values), dtype=np.int64), len(values))
    first: IntArray = np.minimum.reduceat(index, row_start[:-1]).astype(np.int64)
    return first


def routed_policy(g: Graph, problem: Problem, chosen: IntArray, internal: npt.NDArray[np.bool_]) -> dict[int, int]:
    """The policy that takes each group's ``chosen`` exit where it is, and on the other states of a
    collapsed end component walks inside it to that exit; the precomputations' witnesses elsewhere."""
    choice = problem.outside.copy()
    if len(chosen):
        exit_state = g.choice_state[chosen]
        choice[exit_state] = chosen
        seed = np.zeros(problem.mdp.n_states, dtype=bool)
        seed[exit_state] = True
        _, towards = exists_attractor(g, seed, problem.region & ~seed, internal)
        routed = problem.region & ~seed
        choice[routed] = towards[routed]
    return {int(s): int(c) for s, c in zip(np.flatnonzero(choice >= 0).tolist(), choice[choice >= 0].tolist())}


def _system(g: Graph, problem: Problem) -> _System:
    mdp = problem.mdp
    grouped = groups(g, problem)
    n, group, rows, row_start, internal = grouped.n, grouped.group, grouped.rows, grouped.row_start, grouped.internal
    lengths = (mdp.row_start[rows + 1] - mdp.row_start[rows]).astype(np.int64)
    pos = concat_ranges(mdp.row_start[rows], mdp.row_start[rows + 1])
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    assert mdp.probability is not None
    target_group = group[mdp.target[pos]]
    inside = target_group >= 0
    # the constant part: the probability mass into decided states of value 1, or the reward
    # (reward problems have no decided state of non-zero value: their region only reaches
    # the target, of value 0)
    p_lo, p_hi = mdp.probability.take(pos).enclosure()
    if problem.reward is None:
        value = (problem.one[mdp.target[pos]] & ~inside).astype(np.float64)
        b_lo, b_hi = iv.segment_sum(*iv.mul_nonneg(np.maximum(p_lo, 0.0), p_hi, value, value), offsets)
        b_lo, b_hi = np.clip(b_lo, 0.0, 1.0), np.clip(b_hi, 0.0, 1.0)
    else:
        assert not problem.one.any()
        b_lo, b_hi = problem.reward.take(rows).enclosure()
    # the float matrix into groups, and the constants of the error bound
    probability = mdp.probability.take(pos)
    floats = mdp.float_probability[pos]
    row_of = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)[inside]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=len(rows)), out=indptr[1:])
    data = floats[inside]
    matrix = Rows.of_floats(data, indptr, Conversion.of(probability))
    idx = np.int32 if max(len(data), n) < 2**31 - 1 else np.int64
    return _System(n, group, row_start, rows, indptr.astype(idx), target_group[inside].astype(idx), data,
                   b_lo, b_hi, matrix, problem.maximise, internal)


# -- the solver --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Bounds:
    """Per-state float bounds ``lo <= V* <= hi`` (+inf where infinite) and a float-greedy policy.

    ``converged`` says whether the enclosure at μ₀ met the requested width (else the iteration
    budget ran out and the bounds are honest but wider).
    """

    lo: F
    hi: F
    policy: dict[int, int]
    converged: bool


@dataclass(frozen=True)
class _Goal:
    """When to stop: the width of Σ_g weight_g·[L_g, U_g] against an absolute or relative target.

    Relative targets have an absolute floor (``floor``·tolerance): a value near 0 cannot be
    enclosed to a relative precision by float arithmetic whose rounding is relative to the
    largest values of the region.
    """

    weight: F
    tolerance: float
    floor: float | None   # None: an absolute target (probabilities)

    def target(self, lo: float, hi: float) -> float:
        if self.floor is None:
            return self.tolerance
        return self.tolerance * max(abs(lo), abs(hi), self.floor)

    def width(self, lo: F, hi: F) -> tuple[float, float]:
        """(width at μ₀, target width)."""
        a, b = float(self.weight @ lo), float(self.weight @ hi)
        return b - a, self.target(a, b)


def solve_sound(g: Graph, problem: Problem, mu: F, *, tolerance: float, max_iterations: int) -> Bounds:
    """Sound bounds on the problem's values at every state (module docstring).

    Parameters
    ----------
    mu
        μ₀ as floats per state: the iteration stops once the enclosure at μ₀ is at most
        ``tolerance`` wide (probabilities) or ``tolerance`` relative (rewards; at least
        ``tolerance``·1e-3·max |r| absolute), or when it stops narrowing (rounding noise).
    max_iterations
        The budget of each float iteration phase.

    Raises
    ------
    ArithmeticError
        Overflow, or no verified bound on a reward could be found within the budget.
    """
    sys = _system(g, problem)
    in_region = np.flatnonzero(problem.region)
    weight = np.bincount(sys.group[in_region], weights=mu[in_region], minlength=sys.n).astype(np.float64)
    if sys.n == 0:
        return _per_state(g, problem, sys, np.zeros(0), np.zeros(0), True)
    if problem.reward is None:
        goal = _Goal(weight, tolerance, None)
        lo, hi = np.zeros(sys.n), np.ones(sys.n)
    else:
        largest = float(np.max(np.maximum(np.abs(sys.b_lo), np.abs(sys.b_hi))))
        goal = _Goal(weight, tolerance, 1e-3 * largest if largest > 0 else 1.0)
        lo, hi = _reward_bounds(sys, goal, max_iterations)
    lo, hi, converged = _interval_iteration(sys, goal, lo, hi, max_iterations)
    return _per_state(g, problem, sys, lo, hi, converged)


def _interval_iteration(sys: _System, goal: _Goal, lo: F, hi: F, budget: int) -> tuple[F, F, bool]:
    """L ← max(L, F↓(L)), U ← min(U, F↑(U)) until narrow enough, stalled, or out of budget."""
    checkpoint = math.inf
    for k in range(budget + 1):
        width, target = goal.width(lo, hi)
        if width <= 0.5 * target:  # half: room for the exact sum at μ₀
            return lo, hi, True
        if k % 1000 == 0:
            if width > 0.99 * checkpoint:  # rounding noise: no progress in 1000 iterations
                break
            checkpoint = width
        if k == budget:
            break
        lo = np.maximum(lo, sys.step(lo, upper=False))
        hi = np.minimum(hi, sys.step(hi, upper=True))
    return lo, hi, False


def _reward_bounds(sys: _System, goal: _Goal, budget: int) -> tuple[F, F]:
    """Verified L ≤ F(L) and F(U) ≤ U around a float fixed point (module docstring)."""
    mid = (sys.b_lo + sys.b_hi) / 2
    v = np.zeros(sys.n)
    nonnegative = bool(np.all(sys.b_lo >= 0))
    eps = 1e-3 * goal.tolerance
    for _attempt in range(6):
        v = _float_fixed_point(sys, mid, v, eps, budget)
        w = _steps(sys, sys.products(v, mid), budget)
        at_mu = float(goal.weight @ w) if goal.weight.any() else float(np.max(w))
        wanted = goal.target(float(goal.weight @ v), float(goal.weight @ v)) if goal.weight.any() \
            else goal.target(float(np.max(np.abs(v))), 0.0)
        # the shift must beat the rounding of one sound step, else no guess can be verified
        noise = sys.rounding(v, sys.b_hi) + float(np.max(sys.b_hi - sys.b_lo))
        shift = max(wanted / (4 * at_mu), 16 * noise) * w
        lo, hi = _verified(sys, v - shift, upper=False), _verified(sys, v + shift, upper=True)
        if lo is None and nonnegative:
            lo = np.zeros(sys.n)
        if lo is not None and hi is not None:
            return (np.maximum(lo, 0.0) if nonnegative else lo), hi
        eps /= 100
    raise ArithmeticError("no verified bound on the expected reward was found; try exact=True")


def _float_fixed_point(sys: _System, b: F, v: F, eps: float, budget: int) -> F:
    """Plain float value iteration until the change is at most eps·max(1, |v|) (untrusted)."""
    for _ in range(budget):
        nxt = sys.best(sys.products(v, b))
        if not np.all(np.isfinite(nxt)):
            raise ArithmeticError("overflow in the float iteration")
        change = float(np.max(np.abs(nxt - v), initial=0.0))
        v = nxt
        if change <= eps * max(1.0, float(np.max(np.abs(v), initial=0.0))):
            break
    return v


def _steps(sys: _System, rows_at_v: F, budget: int) -> F:
    """W ≈ 2·(expected steps in the region) + 2 so that W − P_c W ≥ 1 for the rows that matter.

    Max problems: the most steps over all policies (every policy is proper there). Min
    problems: the steps of the greedy policy at v (R^min's region may hold end components with
    positive reward, where the most steps are infinite; only the optimal rows matter above).
    """
    ones = np.ones(len(sys.row_choice))
    pick: IntArray | None = None
    if not sys.maximise:
        pick = _greedy_rows(sys, rows_at_v)
    w = np.zeros(sys.n)
    for _ in range(budget):
        rows = sys.products(w, ones)
        nxt = np.maximum.reduceat(rows, sys.row_start[:-1]) if pick is None else rows[pick]
        step = float(np.max(nxt - w, initial=0.0))
        w = nxt
        if step <= 0.25 or not math.isfinite(step):
            break
    result: F = 2.0 * w + 2.0
    return result


def _verified(sys: _System, x: F, upper: bool) -> F | None:
    """x, or a few sound iterates of it, once one is checked to be a pre-/post-fixed point."""
    for _ in range(20):
        image = sys.step(x, upper)
        if bool(np.all(image <= x)) if upper else bool(np.all(image >= x)):
            return x
        x = np.maximum(image, x) if upper else np.minimum(image, x)
    return None


def _greedy_rows(sys: _System, rows: F) -> IntArray:
    """Per group the first row attaining the group's best value."""
    return first_best(rows, sys.row_start, sys.maximise)


def _per_state(g: Graph, problem: Problem, sys: _System, lo: F, hi: F, converged: bool) -> Bounds:
    """Group bounds back on the model's states, and the greedy policy at the midpoint."""
    base = problem.one.astype(np.float64)
    base[problem.infinite] = np.inf
    state_lo, state_hi = base.copy(), base.copy()
    region = np.flatnonzero(problem.region)
    state_lo[region] = lo[sys.group[region]]
    state_hi[region] = hi[sys.group[region]]
    chosen = np.zeros(0, dtype=np.int64)
    if sys.n:
        mid = (sys.b_lo + sys.b_hi) / 2
        chosen = sys.row_choice[_greedy_rows(sys, sys.products((lo + hi) / 2, mid))]
    return Bounds(state_lo, state_hi, routed_policy(g, problem, chosen, sys.internal), converged)
