"""The `lp` engine for the alignment lemma: a linear program over occupation measures, made exact.

UNTRUSTED search; every verdict is re-checked by `proofs.kernel.check_alignment`.

Per constraint c of Φ (Q = σ·W_c + κ, see the kernel module) the worst value is κ plus the optimum of

    maximise  o·x + o₀   subject to   j·x + j₀ ≥ J* − ε,   x ≥ 0,
              Σ_a x(n, a) − Σ_{n', a'} β·P(s_n | s_n', a')·x(n', a') = μ₀(s_n)·[n starts],

over the occupation measures x of the *nodes*: the undecided augmented states. A bounded recursion
(step bound or finite horizon, L steps) has the nodes (t, s), t < L, s not a stop state, reachable
from μ₀; the geometric fixed point has stationary discounted measures (β = γ) on every non-stop
state. The coefficients are the kernel's terms of the combined recursion: o = σ·c plus the stop
value σ·g reached next (weight β + η), j = d^t·r plus the optimal continuation d^{t+1}·V*_J once c is
decided or the step bound is reached. Its dual multiplier of the J row is λ.

HiGHS (`scipy.optimize.linprog`) solves it in floating point; that is only a hint. Exactness:
1. Primal: the support of x (per node, the actions with positive mass) gives deterministic branch
   policies (the largest action everywhere, and the second one at each randomized node) and the
   rounded randomized table x/Σx; each is evaluated exactly. The best point of their start
   mixtures with J ≥ J* − ε (the J-optimal policy is always one of them: the repair) is attained.
2. Dual: the exact multiplier of that basis (the crossing λ = (q_b − q_a)/(j_a − j_b) of the two
   lines mixed to J = J* − ε; for one line, the smallest λ ≥ 0 at which no column improves on its
   own exact values), hinted multipliers and rationalizations of HiGHS' λ are candidates. The exact
   bound κ + max_π (σ·W_c + λ·J) − λ·(J* − ε) of each is one backward induction (exact policy
   iteration for the geometric fixed point, whose values are the kernel's superharmonic witness).
3. When the smallest bound equals the attained point, strong duality is certified exactly. If the
   basis was wrong (HiGHS' tolerances), the exact parametric (Eisner–Severance) search of
   `proofs.engines.dual` starts from the multipliers already tried, so the worst value is always
   exact (lo == hi). The chosen bound is recomputed with the kernel's `combined_bound` before it
   is reported (the verdict, witness and margin are then `proofs.engines.dual.decide`'s).

``hints`` (all optional; wrong hints cost time, never change a verdict or a worst value):
* ``"lambda"``: a multiplier, or a list of them, tried first (numbers, ``Fraction`` or text).
* ``"basis"``: ``[(t, state, action), ...]`` the support of x (t = 0 for the geometric fixed point);
  the listed actions per node, in order, give branch policies like the LP's support.
* ``"warm_start"``: a ``proofs.policy/1`` document with ``"steps"``, or a mixture such as a
  previous certificate's ``attained`` witness; each policy becomes a primal candidate.
* ``"constraints"``: a list of mappings with these keys, one per constraint, overriding the rest.
With ``basis`` or ``warm_start`` the exact steps run first; the float LP is skipped when they
already certify the worst value. Entries that do not parse or name no node are ignored.

A finite horizon H works on the horizon restriction of the model (`proofs.kernel.horizon`: the
states within H steps of μ₀; it changes no value), as the kernel does. Not covered (status
``unknown`` with a reason): credal models, and models beyond `EXACT_LIMIT` (transitions of the
restriction × steps, 50 steps counted for the geometric horizon).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from proofs.core.errors import CheckFailure, EngineError
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.rational import format_rational
from proofs.engines.alignment import (
    AlignmentResult,
    certificate_fields,
    constraint_hints,
    exact_episode,
    exact_work,
    hint_number,
    hinted_lambdas,
)
from proofs.engines.dual import MAX_ROUNDS, GaveUp, Worst, bound_values, decide, lifted, mixed, parametric
from proofs.engines.lagrangian import EXACT_LIMIT
from proofs.kernel.check_alignment import ConstraintSpace, Episode, combined_bound, constraint_space
from proofs.kernel.horizon import restrict
from proofs.semantics.linear import solve_sparse

__all__ = ["AlignmentResult", "certificate_fields", "discharge_alignment"]

Values = list[Fraction]
Dist = tuple[tuple[int, Fraction], ...]   # (column, probability) at one node
_ZERO, _ONE = Fraction(0), Fraction(1)
_TOL_ABS, _TOL_REL = 1e-9, 1e-6
_DENOMINATORS = (1, 10, 100, 10**4, 10**6, 10**9)
_MAX_BRANCHES = 4


@dataclass(frozen=True, eq=False)
class _Space:
    """The LP of one constraint: nodes, columns (node, choice) and their exact coefficients."""

    mdp: Mdp
    cs: ConstraintSpace
    nodes: tuple[tuple[int, int], ...]             # (t, s); t = 0 for the geometric fixed point
    index: Mapping[tuple[int, int], int]
    start: tuple[int, ...]                         # node n has the columns start[n] … start[n + 1] − 1
    choice: tuple[int, ...]                        # the model's choice of each column
    o: tuple[Fraction, ...]
    j: tuple[Fraction, ...]
    succ: tuple[tuple[tuple[int, Fraction], ...], ...]   # (node, β·P) of the undecided successors
    m0: tuple[tuple[int, Fraction], ...]
    o0: Fraction
    j0: Fraction
    stop_j: tuple[Fraction, ...]                   # V*_J per state (witness values at stop states)

    @property
    def stationary(self) -> bool:
        return self.cs.steps is None

    def columns(self, n: int) -> range:
        return range(self.start[n], self.start[n + 1])


def _nodes(mdp: Mdp, cs: ConstraintSpace) -> list[tuple[int, int]]:
    if cs.steps is None:
        return [(0, s) for s in range(mdp.n_states) if not cs.stop[s]]
    layer = sorted({s for s, p in mdp.initial_distribution() if p > 0 and not cs.stop[s]})
    out: list[tuple[int, int]] = []
    for t in range(cs.steps):
        out += [(t, s) for s in layer]
        layer = sorted({u for s in layer for c in mdp.choices(s) for u, p in mdp.successors(c)
                        if p > 0 and not cs.stop[u]})
    return out


def _space(mdp: Mdp, ep: Episode, cs: ConstraintSpace) -> _Space:
    """The nodes and the kernel's terms of the combined recursion, column by column."""
    nodes = _nodes(mdp, cs)
    index = {node: i for i, node in enumerate(nodes)}
    start, choice, o, j, succ = [0], [], [], [], []
    for t, s in nodes:
        nxt = 0 if cs.steps is None else t + 1
        for c in mdp.choices(s):
            oc, jc = cs.sigma * cs.reward[c], ep.jscale(t) * ep.reward[c]
            row: dict[int, Fraction] = {}
            for u, p in mdp.successors(c):
                target = index.get((nxt, u))
                if target is None:   # decided at u, or the step bound is reached
                    oc += p * (ep.beta + ep.eta) * cs.sigma * cs.goal[u]
                    jc += p * ep.beta * ep.jscale(nxt) * ep.cont(nxt)[u]
                elif p:
                    row[target] = row.get(target, _ZERO) + ep.beta * p
            choice.append(c)
            o.append(oc)
            j.append(jc)
            succ.append(tuple(row.items()))
        start.append(len(choice))
    m0: dict[int, Fraction] = {}
    o0 = j0 = _ZERO
    for s, p in mdp.initial_distribution():
        if (0, s) in index:
            m0[index[0, s]] = m0.get(index[0, s], _ZERO) + p
        else:
            o0 += p * cs.sigma * cs.goal[s]
            j0 += p * ep.jscale(0) * ep.cont(0)[s]
    return _Space(mdp, cs, tuple(nodes), index, tuple(start), tuple(choice), tuple(o), tuple(j), tuple(succ),
                  tuple(m0.items()), o0, j0, tuple(ep.cont(0)))


# -- exact evaluation and exact λ-optimal policies ------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Line:
    """A policy (used while c is undecided, J-optimal after) with its exact J and σ·W_c (no κ)."""

    policy: tuple[Dist, ...]
    j: Fraction
    q: Fraction
    vj: tuple[Fraction, ...]      # per node: J-to-go and σ·W_c-to-go
    vo: tuple[Fraction, ...]


def _column(space: _Space, k: int, vj: Sequence[Fraction],
            vo: Sequence[Fraction]) -> tuple[Fraction, Fraction]:
    jk = space.j[k] + sum((c * vj[u] for u, c in space.succ[k]), _ZERO)
    return jk, space.o[k] + sum((c * vo[u] for u, c in space.succ[k]), _ZERO)


def _make_line(space: _Space, policy: Sequence[Dist], vj: Sequence[Fraction],
               vo: Sequence[Fraction]) -> _Line:
    j = space.j0 + sum((p * vj[n] for n, p in space.m0), _ZERO)
    q = space.o0 + sum((p * vo[n] for n, p in space.m0), _ZERO)
    return _Line(tuple(policy), j, q, tuple(vj), tuple(vo))


def _line(space: _Space, policy: Sequence[Dist]) -> _Line:
    """Exact evaluation: a backward pass (bounded) or two sparse solves (the geometric fixed point)."""
    size = len(space.nodes)
    if space.stationary:
        rows_j, rows_o = [], []
        for n in range(size):
            coeff, bj, bo = {n: _ONE}, _ZERO, _ZERO
            for k, p in policy[n]:
                bj, bo = bj + p * space.j[k], bo + p * space.o[k]
                for u, c in space.succ[k]:
                    coeff[u] = coeff.get(u, _ZERO) - p * c
            rows_j.append((coeff, bj))
            rows_o.append((dict(coeff), bo))
        return _make_line(space, policy, solve_sparse(rows_j, size), solve_sparse(rows_o, size))
    vj, vo = [_ZERO] * size, [_ZERO] * size
    for n in reversed(range(size)):
        for k, p in policy[n]:
            jk, ok = _column(space, k, vj, vo)
            vj[n], vo[n] = vj[n] + p * jk, vo[n] + p * ok
    return _make_line(space, policy, vj, vo)


def _best(space: _Space, w_j: Fraction, w_o: Fraction, start: Sequence[Dist] | None = None) -> _Line:
    """An optimal policy for w_J·J + w_O·σ·W_c: backward induction, or exact policy iteration."""
    if space.stationary:
        return _improve(space, w_j, w_o, start)
    size = len(space.nodes)
    vj, vo = [_ZERO] * size, [_ZERO] * size
    policy: list[Dist] = [()] * size
    for n in reversed(range(size)):
        top: tuple[Fraction, int, Fraction, Fraction] | None = None
        for k in space.columns(n):
            jk, ok = _column(space, k, vj, vo)
            if top is None or w_j * jk + w_o * ok > top[0]:
                top = (w_j * jk + w_o * ok, k, jk, ok)
        assert top is not None
        _, k, vj[n], vo[n] = top
        policy[n] = ((k, _ONE),)
    return _make_line(space, policy, vj, vo)


def _improve(space: _Space, w_j: Fraction, w_o: Fraction, start: Sequence[Dist] | None) -> _Line:
    """Exact policy iteration from ``start`` (its most likely actions), switching on strict gains only."""
    policy: list[Dist] = [((max(d, key=lambda e: e[1])[0] if d else space.start[n], _ONE),)
                          for n, d in enumerate(start or [()] * len(space.nodes))]
    for _ in range(MAX_ROUNDS):
        line = _line(space, policy)
        changed = False
        for n in range(len(space.nodes)):
            value = {k: _column(space, k, line.vj, line.vo) for k in space.columns(n)}
            score = {k: w_j * jk + w_o * ok for k, (jk, ok) in value.items()}
            best = max(score, key=lambda k: (score[k], -k))
            if score[best] > score[policy[n][0][0]]:
                policy[n], changed = ((best, _ONE),), True
        if not changed:
            return line
    raise EngineError("policy iteration did not converge")


# -- the float LP (HiGHS) and the policies of its support -----------------------------------------
def _float_lp(space: _Space, target: Fraction) -> tuple[npt.NDArray[np.float64], float] | None:
    """HiGHS' occupation measure x and multiplier λ of the J row, or None (no columns, or no solution)."""
    size, width = len(space.nodes), len(space.choice)
    if width == 0:
        return None
    rows, cols, vals = [], [], []
    for n in range(size):
        for k in space.columns(n):
            rows.append(n)
            cols.append(k)
            vals.append(1.0)
            for u, c in space.succ[k]:
                rows.append(u)
                cols.append(k)
                vals.append(-float(c))
    b_eq = np.zeros(size)
    for n, p in space.m0:
        b_eq[n] += float(p)
    try:
        a_eq = sparse.csr_matrix((vals, (rows, cols)), shape=(size, width))
        a_ub = sparse.csr_matrix(-np.array([[float(x) for x in space.j]]))
        res = linprog(-np.array([float(x) for x in space.o]), A_ub=a_ub, b_ub=[-float(target - space.j0)],
                      A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    except (ValueError, OverflowError):   # numbers beyond floats: the exact refinement takes over
        return None
    if res.status != 0 or res.x is None:
        return None
    return np.asarray(res.x, dtype=np.float64), max(0.0, -float(res.ineqlin.marginals[0]))


def _support(space: _Space, x: npt.NDArray[np.float64]) -> list[list[int]]:
    """Per node, the columns with positive mass, largest first (the largest alone where there is none)."""
    picks = []
    for n in range(len(space.nodes)):
        cols = sorted(space.columns(n), key=lambda k: (-x[k], k))
        mass = sum(x[k] for k in cols)
        picks.append([k for k in cols if x[k] > _TOL_ABS and x[k] > _TOL_REL * mass] or cols[:1])
    return picks


def _branches(space: _Space, picks: Sequence[Sequence[int]]) -> list[_Line]:
    """The deterministic policies of a support: the first pick everywhere, and the second at one node."""
    base: list[Dist] = [((p[0], _ONE),) for p in picks]
    policies = [base]
    for n in [n for n, p in enumerate(picks) if len(p) > 1][:_MAX_BRANCHES]:
        policies.append(base[:n] + [((picks[n][1], _ONE),)] + base[n + 1:])
    return [_line(space, p) for p in policies]


def _rounded(space: _Space, x: npt.NDArray[np.float64], picks: Sequence[Sequence[int]]) -> list[Dist]:
    """The randomized table π(a | n) = x/Σx, rationalized (summing to 1 exactly)."""
    policy: list[Dist] = []
    for p in picks:
        mass = sum(float(x[k]) for k in p)
        rest = [(k, Fraction(float(x[k]) / mass).limit_denominator(10**6)) for k in p[1:]] if mass > 0 else []
        rest = [(k, q) for k, q in rest if q > 0]
        first = 1 - sum((q for _, q in rest), _ZERO)
        policy.append(((p[0], first), *rest) if first > 0 else ((p[0], _ONE),))
    return policy


def _lp_lines(space: _Space, x: npt.NDArray[np.float64]) -> list[_Line]:
    picks = _support(space, x)
    lines = _branches(space, picks)
    if any(len(p) > 1 for p in picks):
        lines.append(_line(space, _rounded(space, x, picks)))
    return lines


def _rationals(lam: float) -> list[Fraction]:
    """Rationalizations of a float multiplier: the simplest ones within HiGHS' tolerance, then a fine one."""
    out = list(dict.fromkeys(Fraction(lam).limit_denominator(d) for d in _DENOMINATORS))
    close = [f for f in out if abs(float(f) - lam) <= 1e-6 * max(1.0, abs(lam))]
    return list(dict.fromkeys(close[:3] + out[-1:]))


def _duals(space: _Space, parts: Sequence[tuple[Fraction, _Line]]) -> list[Fraction]:
    """The exact multiplier of the attaining basis: where two mixed lines cross, or (one line) the
    smallest λ ≥ 0 at which no column improves on the line's own values."""
    if len(parts) == 2:
        (_, a), (_, b) = parts
        return [(b.q - a.q) / (a.j - b.j)]
    line, lam = parts[0][1], _ZERO
    for n in range(len(space.nodes)):
        for k in space.columns(n):
            jk, ok = _column(space, k, line.vj, line.vo)
            gain_j, gain_o = jk - line.vj[n], ok - line.vo[n]
            if gain_j < 0 < gain_o:
                lam = max(lam, gain_o / -gain_j)
    return [lam]


# -- hints ------------------------------------------------------------------------------------------
def _offset(space: _Space, n: int) -> int:
    """Column of node n = offset + the model's choice."""
    return space.start[n] - space.mdp.choices(space.nodes[n][1]).start


def _basis_column(space: _Space, item: Any) -> tuple[int, int] | None:
    """(node, column) of a hinted ``(t, state, action)``, or None if it names none."""
    if not isinstance(item, (list, tuple)) or len(item) != 3 or not isinstance(item[0], int):
        return None
    t, name, action = item
    s = space.mdp.state_index.get(name) if isinstance(name, str) else None
    n = None if s is None else space.index.get((0 if space.stationary else t, s))
    if n is None or not isinstance(action, str):
        return None
    c = space.mdp.choice_of(space.nodes[n][1], action)
    return None if c is None else (n, _offset(space, n) + c)


def _basis_picks(space: _Space, basis: Any) -> list[list[int]] | None:
    """The support named by ``[(t, state, action), ...]``; nodes it does not name take their first action."""
    if not isinstance(basis, (list, tuple, set, frozenset)):
        return None
    picks: list[list[int]] = [[] for _ in space.nodes]
    for found in (_basis_column(space, item) for item in basis):
        if found is not None and found[1] not in picks[found[0]]:
            picks[found[0]].append(found[1])
    if not any(picks):
        return None
    return [p or [space.start[n]] for n, p in enumerate(picks)]


def _hint_dist(space: _Space, n: int, entry: Any) -> Dist:
    """A step-table entry (an action, or {action: probability}) at node n; its first action if invalid."""
    s, fallback = space.nodes[n][1], ((space.start[n], _ONE),)
    raw = {entry: 1} if isinstance(entry, str) else entry if isinstance(entry, Mapping) else {}
    dist = []
    for a, p in raw.items():
        c = space.mdp.choice_of(s, a) if isinstance(a, str) else None
        q = hint_number(p)
        if c is None or q is None or q < 0:
            return fallback
        if q > 0:
            dist.append((_offset(space, n) + c, q))
    return tuple(dist) if dist and sum(q for _, q in dist) == 1 else fallback


def _warm_policies(space: _Space, warm: Any) -> list[list[Dist]]:
    """The policies of a ``proofs.policy/1`` document with ``"steps"`` or of a mixture of them."""
    docs = [warm]
    if isinstance(warm, Mapping) and isinstance(warm.get("mixture"), list):
        docs = [c.get("before_decided") for c in warm["mixture"] if isinstance(c, Mapping)]
    out = []
    for doc in docs:
        steps = doc.get("steps") if isinstance(doc, Mapping) else None
        if isinstance(steps, list) and steps and all(isinstance(x, Mapping) for x in steps):
            out.append([_hint_dist(space, n, steps[min(t, len(steps) - 1)].get(space.mdp.states[s]))
                        for n, (t, s) in enumerate(space.nodes)])
    return out


def _hint_lines(space: _Space, hint: Mapping[str, Any]) -> list[_Line]:
    picks = _basis_picks(space, hint.get("basis"))
    lines = _branches(space, picks) if picks is not None else []
    return lines + [_line(space, p) for p in _warm_policies(space, hint.get("warm_start"))]


# -- the exact search of one constraint at one target ---------------------------------------------
def _lower(lines: Sequence[_Line], target: Fraction) -> tuple[Fraction, list[tuple[Fraction, _Line]]]:
    """The best attained value: one line with J ≥ target, or two mixed at the start to J = target."""
    best: tuple[Fraction, list[tuple[Fraction, _Line]]] | None = None
    for a in lines:
        if a.j >= target and (best is None or a.q > best[0]):
            best = (a.q, [(_ONE, a)])
    for a in [a for a in lines if a.j >= target]:
        for b in [b for b in lines if b.j < target]:
            parts = mixed(a, b, target)
            value = sum((w * line.q for w, line in parts), _ZERO)
            if best is None or value > best[0]:
                best = (value, parts)
    assert best is not None, "the J-optimal line is always feasible"
    return best


class _Search:
    """Attained lines (lower bounds) and the exact bounds at the multipliers tried (upper bounds)."""

    def __init__(self, space: _Space, target: Fraction, jopt: _Line) -> None:
        self.space, self.target = space, target
        self.lines = [jopt]
        self.tried: dict[Fraction, _Line] = {}
        self.seed: tuple[Dist, ...] | None = None

    def add(self, lines: Sequence[_Line]) -> None:
        self.lines += lines
        if self.seed is None and lines:
            self.seed = lines[0].policy

    def respond(self, lam: Fraction) -> _Line:
        return _best(self.space, lam, _ONE, self.seed)

    def bound(self, lam: Fraction) -> Fraction:
        return lifted(self.tried[lam], lam, self.target)

    def certify(self, lams: Sequence[Fraction], lam_hat: float | None = None) -> Worst[_Line] | None:
        """Try the multipliers (then the attaining basis' dual, then λ̂ rationalized) until the
        smallest exact bound equals the attained value."""
        duals = _duals(self.space, _lower(self.lines, self.target)[1])
        for lam in [*lams, *duals, *(_rationals(lam_hat) if lam_hat is not None else [])]:
            if lam < 0 or lam in self.tried:
                continue
            self.tried[lam] = self.respond(lam)
            self.lines.append(self.tried[lam])
            found = self.done()
            if found is not None:
                return found
        return self.done() if self.tried else None

    def done(self) -> Worst[_Line] | None:
        value, parts = _lower(self.lines, self.target)
        lam = min(self.tried, key=lambda x: (self.bound(x), x))
        if self.bound(lam) < value:
            raise EngineError("lp engine: an exact bound lies below an attained value")
        return Worst(value, lam, parts, self.tried[lam]) if self.bound(lam) == value else None

    def refine(self) -> Worst[_Line] | None:
        """Exact parametric search (`proofs.engines.dual.parametric`) from the lines tried: b optimal
        at some λ_b with J_b < target (at λ = 0 if none is), a the J-optimal line or one optimal above."""
        below = [lam for lam, line in self.tried.items() if line.j < self.target]
        if below:
            b = self.tried[max(below)]
        else:
            b = self.tried.get(_ZERO) or self.respond(_ZERO)
            if b.j >= self.target:
                return Worst(b.q, _ZERO, [(_ONE, b)], b)
        above = sorted(lam for lam, line in self.tried.items() if line.j >= self.target)
        a = self.tried[above[0]] if above else self.lines[0]
        return parametric(self.respond, a, b, self.target)


def _worst(space: _Space, target: Fraction, jopt: _Line, hint: Mapping[str, Any]) -> Worst[_Line] | None:
    """The exact worst value at one target: hinted policies first, then the float LP, then refinement."""
    search = _Search(space, target, jopt)
    lams = hinted_lambdas(hint)
    hinted = _hint_lines(space, hint)
    if hinted:
        search.add(hinted)
        found = search.certify(lams)
        if found is not None:
            return found
    lp = _float_lp(space, target)
    if lp is not None:
        search.add(_lp_lines(space, lp[0]))
        found = search.certify(lams, lp[1])
    else:
        found = search.certify([*lams, _ZERO])
    return found or search.refine()


# -- one constraint, as `proofs.engines.dual.decide` asks -----------------------------------------------
def _per_state(space: _Space, at_node: Sequence[Fraction], at_stop: Sequence[Fraction]) -> list[Fraction]:
    """A stationary per-node vector spread over the states (``at_stop`` on the stop states)."""
    return [at_stop[s] if (0, s) not in space.index else at_node[space.index[0, s]]
            for s in range(space.mdp.n_states)]


class _Constraint:
    """One constraint's LP: the exact worst value at any target, and how its lines are written."""

    def __init__(self, ep: Episode, space: _Space, hint: Mapping[str, Any]) -> None:
        self.ep, self.space, self.cs, self.hint = ep, space, space.cs, hint
        self.jopt = _best(space, _ONE, _ZERO)

    def worst(self, target: Fraction, hinted: bool = True) -> Worst[_Line]:
        """The exact worst value; at the lemma's target (``hinted``) also re-checked against the
        kernel's own bound (`combined_bound`) before it is reported."""
        found = _worst(self.space, target, self.jopt, self.hint if hinted else {})
        if found is None:
            raise GaveUp(f"no exact multiplier found within {MAX_ROUNDS} rounds for {self.cs.constraint}")
        if hinted:
            try:
                bound = combined_bound(self.space.mdp, self.ep, self.cs, found.lam, bound_values(self, found))
            except CheckFailure as exc:
                raise EngineError(f"lp engine: the multiplier's witness is rejected: {exc}") from None
            if bound - found.lam * target != found.sup_q:
                raise EngineError(f"lp engine: the kernel's bound {bound - found.lam * target} differs from the "
                                  f"worst value {found.sup_q}")
        return found

    def top(self) -> Fraction:
        return _best(self.space, _ZERO, _ONE).q

    def document(self, line: _Line) -> dict[str, Any]:
        space = self.space
        steps: list[dict[str, Any]] = [{} for _ in range(1 if space.cs.steps is None else space.cs.steps)]
        for (t, s), dist in zip(space.nodes, line.policy):
            acts = {space.mdp.action(space.choice[k]): p for k, p in dist if p > 0}
            one = next(iter(acts)) if len(acts) == 1 else None
            steps[t][space.mdp.states[s]] = one or {a: format_rational(p) for a, p in acts.items()}
        return {"format": "proofs.policy/1", "steps": steps}

    def per_state(self, line: _Line) -> tuple[list[Fraction], list[Fraction]] | None:
        """Per state: J-to-go (V*_J once decided) and W_c (g once decided) of a stationary line."""
        space = self.space
        if not space.stationary:
            return None
        return (_per_state(space, line.vj, space.stop_j),
                _per_state(space, [space.cs.sigma * x for x in line.vo], space.cs.goal))


def _unsupported(mdp: Mdp, objective: Objective) -> str:
    if mdp.is_credal:
        return "credal models are not supported by the lp engine yet"
    if exact_work(mdp, objective) > EXACT_LIMIT:
        return f"the model is beyond the exact limit ({EXACT_LIMIT} transitions × steps)"
    return ""


def discharge_alignment(mdp: Mdp, objective: Objective, lemma_epsilon: Fraction,
                        constraints: Sequence[Constraint],
                        *, margin: bool = False, hints: Mapping[str, Any] | None = None) -> AlignmentResult:
    """Prove or refute the alignment lemma exactly through the occupation-measure LP.

    Parameters
    ----------
    mdp, objective, lemma_epsilon, constraints
        The lemma: J(π) ≥ J* − ε implies every constraint, for every policy π.
    margin
        Also compute ε* = inf{ε ≥ 0 : the lemma fails at ε} (exact; ``"inf"`` when no policy
        violates Φ).
    hints
        Optional speed-ups (see the module docstring); wrong hints never change the answer.

    Returns
    -------
    AlignmentResult
        ``engine="lp"``; exact worst values (lo == hi) and a witness for `check_alignment_certificate`.
    """
    if objective.horizon is not None and not mdp.is_credal:
        mdp = restrict(mdp, objective.horizon)   # what the horizon can see; changes no value
    why = _unsupported(mdp, objective)
    if why:
        return AlignmentResult.unknown("lp", why)
    ep = exact_episode(mdp, objective)
    searches = [_Constraint(ep, _space(mdp, ep, constraint_space(mdp, objective, c)), constraint_hints(hints, i))
                for i, c in enumerate(constraints)]
    return decide("lp", mdp, ep, lemma_epsilon, constraints, searches, margin)
