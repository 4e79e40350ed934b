"""The `lagrangian` engine at scale: float search, sound claims (finite horizon, 1e5–1e6 states).

UNTRUSTED search; the claims are computed with the trusted kernel's own sound routines
(`proofs.kernel.check_alignment_float`) over the fast operators of `proofs.operators` (the same
floats as the kernel's plain ones), and the kernel re-runs them when it checks the certificate.

The method is the exact engine's (`proofs.engines.lagrangian`), in floats on the horizon
restriction of the model (`proofs.kernel.horizon`): per constraint, the parametric search over λ
for the worst value over the ε-optimal policies, each step one backward induction of
λ·J + σ·W_c (one sparse product with a two-column right-hand side per step, then an argmax per
state). On large models the dual function has very many pieces, so the classic
intersection of the two bracketing lines converges only linearly (about 4x per round); the
search therefore takes false-position steps on J(λ) = J* − ε, which needs about half the rounds
(see `_parametric`). The claim is then:

* the upper bound at that λ, by the kernel's sound backward induction;
* the start mixture of the two lines' deterministic policies, weighted so that J lands a little
  ABOVE J* − ε (by ``slack``), so that the kernel's enclosure of J(mix) is certainly ε-optimal;
  the worst value is thereby under-estimated by about λ·slack, well inside the 1e-6 target.

A verdict is given only when the sound enclosure decides it; otherwise the status is ``unknown``.
ε must exceed the float resolution of J* (about 1e-9 relative) for the attained mixture to be
certainly ε-optimal; below that the result is ``unknown`` and the exact engine is the tool.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs.core.certificates import Mixture
from proofs.core.enclosure import Enclosure
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.rational import format_rational
from proofs.engines.alignment import AlignmentResult, ConstraintResult, hinted_lambda
from proofs.engines.claims import EXPLICIT, claim, tails
from proofs.kernel.bellman import Positions, positions
from proofs.kernel.check_alignment_float import (
    Evaluated,
    FloatSpace,
    OptimalJ,
    float_space,
    mixture_values,
    upper_bound,
)
from proofs.kernel.horizon import restrict
from proofs.operators import THREADS, ChoiceLayout, SlotLayout, expectation_into, run_blocks

__all__ = ["discharge_float", "discharge_restricted"]

F = npt.NDArray[np.float64]
_MAX_ROUNDS = 200
_RELATIVE_SLACK = 1e-9
_TIE = 1e-12   # relative: scores this close are a tie, and the previous step's choice is kept
_GAP = 4e-7   # relative width of the search's own bracket (the claim adds the float error; target ≤ 1e-6)
_DECIDED_GAP = 1e-4   # ... once the bounds decide the constraint (Storm's multi-objective precision)
_ROOM = 1e-6   # relative distance from the threshold that counts as decided (the claims' float error is far less)


def _pick(scores: F, previous: npt.NDArray[np.integer]) -> npt.NDArray[np.intp]:
    """For every column of ``scores`` (choices × states), the first choice holding the largest
    score, except where the previous step's choice scores within float noise of it: keeping that
    choice leaves the step tables unchanged where actions tie, so the witness (their changes)
    stays small over long horizons. The search stays a search: the claims are the kernel's,
    computed on whatever tables it returns."""
    top = scores[0].copy()
    best = np.zeros(len(top), dtype=np.intp)
    for k in range(1, len(scores)):
        np.copyto(best, k, where=scores[k] > top)
        np.maximum(top, scores[k], out=top)
    column = np.arange(len(top))
    kept = np.take(scores, previous.astype(np.intp) * len(top) + column) if scores.flags.c_contiguous else \
        scores[previous, column]
    slack = np.abs(top)   # top − _TIE·(1 + |top|), in place
    slack += 1.0
    slack *= _TIE
    top -= slack
    return np.where(kept >= top, previous, best).astype(np.intp)


class _SearchModel:
    """What both search layouts share: the discount, μ₀ and the type of the step tables."""

    def __init__(self, mdp: Mdp, objective: Objective) -> None:
        assert objective.horizon is not None
        self.mdp, self.d = mdp, float(objective.discount)
        self.width = int(np.diff(mdp.choice_start).max(initial=1))   # the most choices of a state
        self.dtype: type[np.integer] = np.int8 if self.width < 127 else np.int32
        self.mu_states = mdp.initial_states.astype(np.int64)
        self.mu = mdp.initial_probability.floats()

    def at_initial(self, x: F) -> float:
        return float(np.dot(self.mu, x[self.mu_states]))

    def line(self, opt: OptimalJ, tables: _Changes, before: tuple[F, F], j: F, q: F) -> _Line:
        """The line of the step tables found from the end down to step ``opt.first``: J and σ·W_c
        at μ₀, extended to step 0 along their last difference when the kernel will bound the
        earlier steps by a slope (``tail``; the tables keep their step-``first`` row there)."""
        j1, q1 = self.at_initial(j), self.at_initial(q)
        if opt.tail is None:
            return _Line(tables.array(), j1, q1)
        j0, q0 = self.at_initial(before[0]), self.at_initial(before[1])
        return _Line(tables.array(), j1 + opt.first * (j1 - j0), q1 + opt.first * (q1 - q0))


class _Search(_SearchModel):
    """The float model of the restricted MDP, for backward inductions of w_J·J + w_Q·σ·W_c.

    Choices are laid out state-major in a padded ``n × k`` table (k the most choices of a state;
    a missing choice is an empty row whose score is −∞), so the product of the matrix with a
    two-column right-hand side comes out ready for a column-wise argmax per state. Used where the
    slot layout (`_SlotSearch`) would need too much padding.
    """

    def __init__(self, mdp: Mdp, objective: Objective) -> None:
        super().__init__(mdp, objective)
        n, nc, k = mdp.n_states, mdp.n_choices, self.width
        counts = np.diff(mdp.choice_start)
        local = np.arange(nc) - np.repeat(mdp.choice_start[:-1], counts)
        self.place = place = mdp.choice_state * k + local          # the padded row of every choice
        row_len = np.zeros(n * k, dtype=np.int64)
        row_len[place] = np.diff(mdp.row_start)
        indptr = np.zeros(n * k + 1, dtype=np.int64)
        np.cumsum(row_len, out=indptr[1:])
        index = np.int32 if max(n, len(mdp.target)) < 2**31 - 1 else np.int64
        self.laid = positions(mdp) if mdp.is_credal else None   # nature's greedy per step (credal)
        if self.laid is None:
            from scipy.sparse import csr_matrix  # here: the slot layout, the usual case, needs no scipy

            self.matrix = csr_matrix((mdp.float_probability, mdp.target.astype(index), indptr.astype(index)),
                                     shape=(n * k, n))
        self.missing = np.ones(n * k, dtype=np.bool_)
        self.missing[place] = False
        self.r = self.prepare(mdp.rewards[objective.reward].floats())
        self.row_of_state = np.arange(n, dtype=np.int64) * k

    def prepare(self, per_choice: F) -> F:
        """A per-choice vector in the padded layout (0 on missing choices)."""
        out = np.zeros(len(self.missing))
        out[self.place] = per_choice
        return out

    def expect(self, j: F, q: F, key: F | None) -> F:
        """P·J and P·(σ·W_c) per padded row (two columns); on a credal model under nature's greedy
        for ``key`` (the distribution minimising key's expectation)."""
        if self.laid is None:
            return np.asarray(self.matrix @ np.stack([j, q], axis=1))
        assert key is not None and self.laid.nature is not None
        by_nature = Positions(self.laid.target, self.laid.nature.worst(key, self.laid.target))
        out = np.zeros((len(self.missing), 2))
        out[self.place, 0], out[self.place, 1] = by_nature.sums(j), by_nature.sums(q)
        return out

    def best(self, opt: OptimalJ, cs: FloatSpace, c_reward: F, w_j: float, w_q: float,
             robust: bool = False) -> _Line:
        """The argmax of w_J·J + w_Q·σ·W_c over deterministic step tables, with its float J and σ·W_c.

        ``c_reward`` is σ·c per choice, prepared. On a credal model nature maximises the same score
        (the relaxation G_co of the upper bound: policy and nature together) or, ``robust``,
        minimises J (the robust J-optimal tables, w_Q = 0).
        """
        big_l, d = cs.steps, self.d
        stop = np.flatnonzero(cs.stop)
        slot = np.searchsorted(np.flatnonzero(opt.stops), stop)
        full = opt.full if robust else opt.co_full   # the continuation after c is decided
        j = d**big_l * full[big_l].centre   # V* from the kernel's pass (its centres; search only)
        q = cs.sigma * cs.goal
        tables = _Changes(self.mdp.n_states, self.dtype)
        rows = len(self.missing)
        cj, cq, score = np.empty(rows), np.empty(rows), np.empty(rows)
        before = (j, q)
        stops_at = opt.at_stops if robust else opt.co_at_stops
        for t in reversed(range(opt.first, big_l)):
            before = (j, q)
            expect = self.expect(j, q, None if self.laid is None else j if robust else -(w_j * j + w_q * q))
            np.multiply(self.r, d**t, out=cj)
            cj += expect[:, 0]
            np.add(c_reward, expect[:, 1], out=cq)
            np.multiply(cj, w_j, out=score)
            if w_q:
                score += cq
            score[self.missing] = -np.inf
            table = score.reshape(-1, self.width)
            local = _pick(table.T, tables.previous)
            chosen = self.row_of_state + local
            j, q = cj[chosen], cq[chosen]
            j[stop] = d**t * stops_at[t].centre[slot]
            q[stop] = cs.sigma * cs.goal[stop]
            local[stop] = 0
            tables.add(t, local)
        return self.line(opt, tables, before, j, q)


class _SlotSearch(_SearchModel):
    """The same backward inductions over the model's slot layout (`proofs.operators.ChoiceLayout.star`):
    blocks of states, each state's choices in slots (a state with fewer choices repeats its last
    one, which never wins the first-best argmax over its original), on the operators' threads."""

    def __init__(self, mdp: Mdp, objective: Objective, layout: SlotLayout) -> None:
        super().__init__(mdp, objective)
        self.layout = layout
        self.r = layout.by_slot(mdp.rewards[objective.reward].floats())   # J's rewards by slot
        shape = (THREADS,) + layout.values.shape[1:]
        self.cj, self.cq, self.term, self.score = (np.empty(shape) for _ in range(4))

    def prepare(self, per_choice: F) -> F:
        """A per-choice vector by slot."""
        return per_choice[self.layout.choice]

    def best(self, opt: OptimalJ, cs: FloatSpace, c_reward: F, w_j: float, w_q: float) -> _Line:
        """The argmax of w_J·J + w_Q·σ·W_c over deterministic step tables (see `_Search.best`)."""
        lay, n, d = self.layout, self.mdp.n_states, self.d
        size, blocks = lay.block, len(lay.target)
        stop = np.flatnonzero(cs.stop)
        slot = np.searchsorted(np.flatnonzero(opt.stops), stop)
        j, q = d**cs.steps * opt.full[cs.steps].centre, cs.sigma * cs.goal
        out_j, out_q = np.empty(blocks * size), np.empty(blocks * size)
        local = np.zeros(blocks * size, dtype=self.dtype)
        tables = _Changes(n, self.dtype)
        column = np.arange(size)
        before = (j, q)
        for t in reversed(range(opt.first, cs.steps)):
            scale, before = d**t, (j, q)

            def work(first: int, last: int, part: int, j: F = j, q: F = q, scale: float = scale) -> float:
                cj, cq, term, score = self.cj[part], self.cq[part], self.term[part], self.score[part]
                for b in range(first, last):
                    expectation_into(j, lay.target[b], lay.probability[b], cj, term)
                    expectation_into(q, lay.target[b], lay.probability[b], cq, term)
                    cj += self.r[b] * scale
                    cq += c_reward[b]
                    np.multiply(cj, w_j, out=score)
                    if w_q:
                        score += cq
                    at = slice(b * size, (b + 1) * size)
                    pick = _pick(score, local[at])
                    flat = pick * size + column
                    local[at] = pick
                    out_j[at], out_q[at] = cj.ravel()[flat], cq.ravel()[flat]
                return 0.0

            run_blocks(blocks, work)
            j, q = out_j[:n].copy(), out_q[:n].copy()
            j[stop] = scale * opt.at_stops[t].centre[slot]
            q[stop] = cs.sigma * cs.goal[stop]
            local[stop] = 0
            tables.add(t, local[:n])
        return self.line(opt, tables, before, j, q)


class _Changes:
    """Step tables as they are found, from the last step: only the states whose action differs
    from the step after (the kernel's ``"changes"`` encoding), so memory follows the policy's
    changes, not L·n."""

    def __init__(self, n: int, dtype: type[np.integer]) -> None:
        self.previous = np.zeros(n, dtype=dtype)
        self.parts: list[npt.NDArray[np.int32]] = []

    def add(self, t: int, row: npt.NDArray[np.integer]) -> None:
        changed = np.flatnonzero(row != self.previous)
        if len(changed):
            part = np.empty((len(changed), 3), dtype=np.int32)
            part[:, 0], part[:, 1], part[:, 2] = t, changed, row[changed]
            self.parts.append(part)
            self.previous[changed] = row[changed]

    def array(self) -> npt.NDArray[np.int32]:
        return np.concatenate(self.parts) if self.parts else np.zeros((0, 3), dtype=np.int32)


@dataclass(frozen=True, eq=False)
class _Line:
    tables: npt.NDArray[np.int32]   # rows (t, state, local action index): the "changes" encoding
    j: float
    q: float

    def at(self, lam: float) -> float:
        return self.q + lam * self.j


@dataclass
class _Bracket:
    """Multipliers around λ*: ``lo`` (its line has J < target), ``hi`` (J ≥ target; λ = ∞ for the
    J-optimal line), with the Illinois weights of the false-position steps on J(λ) − target."""

    lo: tuple[float, _Line]
    hi: tuple[float, _Line]
    f_lo: float
    f_hi: float
    side: int = 0

    def next_lambda(self) -> float:
        (l0, b), (l1, a) = self.lo, self.hi
        crossing = max((b.q - a.q) / (a.j - b.j), 0.0)   # where the two lines meet
        if l1 == float("inf"):
            return crossing
        lam = l0 - self.f_lo * (l1 - l0) / (self.f_hi - self.f_lo)
        return lam if l0 < lam < l1 else crossing

    def update(self, lam: float, line: _Line, target: float) -> None:
        if line.j >= target:
            self.hi, self.f_hi = (lam, line), line.j - target
            if self.side == 1:
                self.f_lo /= 2
            self.side = 1
        else:
            self.lo, self.f_lo = (lam, line), line.j - target
            if self.side == -1:
                self.f_hi /= 2
            self.side = -1


def _decides(cs: FloatSpace, lower: float, upper: float) -> bool:
    """Whether the search's bounds on max σ·W_c over the ε-optimal policies decide the constraint,
    `_ROOM` away from its threshold."""
    ends = sorted(cs.rho * (cs.kappa + x) for x in (lower, upper))
    room = _ROOM * (1.0 + max(abs(ends[0]), abs(ends[1])))
    c = cs.constraint
    return c.comparison.decide(Fraction(ends[0] - room), Fraction(ends[1] + room), c.threshold) is not None


def _parametric(search: _Search | _SlotSearch, opt: OptimalJ, cs: FloatSpace, target: float, slack: float,
                lam_hint: float | None) -> tuple[float, list[_Line]] | None:
    """λ and the lines whose mixture attains it (`_attaining`), or None if ε is too small.

    Each round evaluates the argmax line at one λ: new.at(λ) − λ·target is an upper bound on the
    worst value; the mixture of the bracket's two lines at J = target a lower bound. λ comes from
    a false-position (Illinois) step on J(λ) = target inside the bracket, or from the crossing of
    the two lines while the bracket is still open; rounds stop when the bounds are `_GAP` apart,
    or `_DECIDED_GAP` apart once they decide the constraint (the verdict is then known, and the
    worst value as precisely as Storm's multi-objective queries give it).
    """
    c_reward = search.prepare(cs.sigma * cs.reward.floats())
    b = search.best(opt, cs, c_reward, 0.0, 1.0)
    if b.j >= target:   # b may be ε-optimal itself (the kernel's enclosure decides; exact zeros pass)
        return 0.0, [b]
    a = search.best(opt, cs, c_reward, 1.0, 0.0)
    if a.j < target + slack:
        return None
    goal = target + slack
    bracket = _Bracket((0.0, b), (float("inf"), a), b.j - goal, a.j - goal)
    best_lam, best_upper = 0.0, float("inf")
    for k in range(_MAX_ROUNDS):
        lam = lam_hint if (k == 0 and lam_hint is not None and lam_hint >= 0) else bracket.next_lambda()
        new = search.best(opt, cs, c_reward, lam, 1.0)
        if new.at(lam) - lam * goal < best_upper:
            best_lam, best_upper = lam, new.at(lam) - lam * goal
        bracket.update(lam, new, goal)
        lo_line, hi_line = bracket.lo[1], bracket.hi[1]
        weight = (goal - lo_line.j) / (hi_line.j - lo_line.j)
        lower = weight * hi_line.q + (1 - weight) * lo_line.q
        del weight
        gap = best_upper - lower
        if gap <= _GAP * (1.0 + abs(lower)) or (gap <= _DECIDED_GAP * (1.0 + abs(lower))
                                                 and _decides(cs, lower, best_upper)):
            break
    return best_lam, [bracket.lo[1], bracket.hi[1]]


def _attaining(lines: Sequence[_Line], goal: float) -> list[tuple[Fraction, _Line]]:
    """The start mixture of the bracket's two lines whose J is ``goal`` (one line: itself)."""
    if len(lines) == 1:
        return [(Fraction(1), lines[0])]
    lo_line, hi_line = lines
    share = Fraction((goal - lo_line.j) / (hi_line.j - lo_line.j)).limit_denominator(10**12)
    share = min(max(share, Fraction(0)), Fraction(1))
    return [(share, hi_line), (1 - share, lo_line)]


def _robust_attaining(search: _Search | _SlotSearch, small: Mdp, opt: OptimalJ, cs: FloatSpace,
                      lines: Sequence[_Line], need: Fraction, prefix: str,
                      arrays: dict[str, np.ndarray]) -> list[tuple[Fraction, _Line]]:
    """On a credal model, where the search's J is nature's cooperative one: the start mixture of
    the search's worst line for c (the bracket's first) and the first of the others, then the
    robust J-optimal tables, whose J_lo (the kernel's own bound, each component against its own
    worst nature) reaches ``need``, weighted on those bounds so that the mixture's J_lo does too.
    The best line alone when it reaches ``need``; the robust J-optimal tables alone (certainly
    ε-optimal, worst for c) when nothing does."""
    assert isinstance(search, _Search)
    robust = search.best(opt, cs, search.prepare(cs.sigma * cs.reward.floats()), 1.0, 0.0, robust=True)
    candidates, lows = [*lines, robust], []
    for line in candidates:
        arrays[f"{prefix}_probe"] = line.tables
        alone = Mixture.from_json({"mixture": [{"weight": "1", "step_tables": f"{prefix}_probe", "encoding": "changes",
                                                "after_decided": "J-optimal"}]})
        lows.append(mixture_values(small, opt, cs, alone, arrays, "a candidate")[0].lo)
    del arrays[f"{prefix}_probe"]
    if lows[0] >= need:
        return [(Fraction(1), candidates[0])]
    k = next((k for k in range(1, len(candidates)) if lows[k] >= need), len(candidates) - 1)
    if lows[k] <= lows[0]:
        return [(Fraction(1), candidates[k])]
    share = min(Fraction(math.ceil((need - lows[0]) / (lows[k] - lows[0]) * 10**12), 10**12), Fraction(1))
    return [(share, candidates[k]), (1 - share, candidates[0])]


def _attained(search: _Search | _SlotSearch, small: Mdp, opt: OptimalJ, cs: FloatSpace, lines: Sequence[_Line],
              goal: float, slack: float, need: Fraction, i: int,
              arrays: dict[str, np.ndarray]) -> tuple[dict[str, Any], Enclosure, Enclosure]:
    """The attained start mixture and the kernel's enclosures of its (J, value): aimed at J = ``goal``,
    and aimed higher while the kernel's J(mix) is below ``need`` = J*_hi − ε (a tail's slopes may
    widen it past the slack); on a credal model `_robust_attaining`."""
    evaluated, prefix = Evaluated(), f"c{i}"
    for _ in range(1 if small.is_credal else 4):
        parts = _robust_attaining(search, small, opt, cs, lines, need, prefix, arrays) \
            if small.is_credal else _attaining(lines, goal)
        mixture = _mixture(parts, prefix, arrays)
        j_att, attained = mixture_values(small, opt, cs, Mixture.from_json(mixture), arrays, f"constraint {i}", evaluated)
        deficit = float(need - j_att.lo)
        if deficit <= 0 or len(lines) == 1:
            break
        goal += 2 * deficit + slack
    return mixture, j_att, attained


def _mixture(parts: Sequence[tuple[Fraction, _Line]], prefix: str,
             arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    out = []
    for k, (weight, line) in enumerate(parts):
        if weight == 0:
            continue
        name = f"{prefix}_{k}"
        arrays[name] = line.tables
        out.append({"weight": format_rational(weight), "step_tables": name, "encoding": "changes",
                    "after_decided": "J-optimal"})
    return {"mixture": out}


def discharge_float(mdp: Mdp, objective: Objective, epsilon: Fraction, constraints: Sequence[Constraint],
                    hints: Mapping[str, Any] | None = None) -> AlignmentResult:
    """The alignment lemma on a large, non-credal model with a finite horizon (module docstring).

    ``hints`` may give ``"lambda"`` (a float starting multiplier); a wrong one costs one round.
    """
    return discharge_restricted(restrict(mdp, objective.horizon), objective, epsilon, constraints, hints)


def discharge_restricted(small: Mdp, objective: Objective, epsilon: Fraction, constraints: Sequence[Constraint],
                         hints: Mapping[str, Any] | None = None) -> AlignmentResult:
    """`discharge_float` on a model already cut by `proofs.kernel.horizon.restrict` (no second search).

    Long undiscounted episodes (every constraint over the whole episode) are searched and claimed
    over their last K + 1 steps only, the earlier ones bounded by the kernel's slopes (``tail``,
    `proofs.kernel.check_alignment_float`), for each K of `proofs.engines.claims.tails` while the
    verdict stays open; then H ≤ `EXPLICIT` is searched step by step, and a longer one stays
    ``unknown``.
    """
    spaces = [float_space(small, objective, c) for c in constraints]
    horizon = objective.horizon
    assert horizon is not None
    result, last = None, 0
    if objective.discount == 1 and all(cs.steps == horizon for cs in spaces) and not small.is_credal:
        for last in tails(horizon):
            result = _discharge(small, objective, epsilon, spaces, hints, last)
            if result.status != "unknown":
                return result
    if result is None or horizon <= EXPLICIT:
        return _discharge(small, objective, epsilon, spaces, hints, None)
    return replace(result, reason=f"{result.reason} (the earlier steps were bounded by a slope from the last "
                                  f"{last} ones; H > {EXPLICIT} is not searched step by step)")


def _discharge(small: Mdp, objective: Objective, epsilon: Fraction, spaces: Sequence[FloatSpace],
               hints: Mapping[str, Any] | None, tail: int | None) -> AlignmentResult:
    stops = np.zeros(small.n_states, dtype=np.bool_)
    for cs in spaces:
        stops |= cs.stop
    layouts = ChoiceLayout(small)
    opt = OptimalJ(small, objective, stops, {cs.steps for cs in spaces}, bellman=layouts.bellman, tail=tail)
    layout = layouts.star
    search = _Search(small, objective) if layout is None else _SlotSearch(small, objective, layout)
    j_star_f = float((opt.j_star.lo + opt.j_star.hi) / 2)
    target = j_star_f - float(epsilon)
    slack = _RELATIVE_SLACK * (1.0 + abs(j_star_f))
    hinted = hinted_lambda(hints)
    lam_hint = None if hinted is None else float(hinted)
    arrays: dict[str, np.ndarray] = {}
    results, witnesses, counterexample = [], [], None
    for i, cs in enumerate(spaces):
        found = _parametric(search, opt, cs, target, slack, lam_hint)
        if found is None:
            return AlignmentResult("unknown", (), claim(opt.j_star), {}, None,
                                   reason=f"epsilon = {epsilon} is below the float resolution of J*; "
                                          "use the exact engine")
        lam = Fraction(found[0]).limit_denominator(10**12)
        with ThreadPoolExecutor(1) as pool:   # the kernel's upper bound, beside the mixture's evaluation
            g_hi = pool.submit(upper_bound, small, opt, cs, lam)
            mixture, j_att, attained = _attained(search, small, opt, cs, found[1], target + slack, slack,
                                                 opt.j_star.hi - epsilon, i, arrays)
        bound = cs.reported(cs.kappa + g_hi.result().hi - lam * (opt.j_star.lo - epsilon))
        c = cs.constraint
        if j_att.lo < opt.j_star.hi - epsilon:
            return AlignmentResult("unknown", (), claim(opt.j_star), {}, None,
                                   reason=f"the attained policy for {c} is not certainly epsilon-optimal "
                                          "in float arithmetic; use the exact engine")
        worst = Enclosure(attained.lo, bound) if cs.rho > 0 else Enclosure(bound, attained.hi)
        # only the upper bound can prove a constraint; only the attained mixture can refute it
        holds = True if c.comparison.holds(bound, c.threshold) else \
            False if c.comparison.decide(attained.lo, attained.hi, c.threshold) is False else None
        claimed = claim(worst).within(0, 1) if cs.probability else claim(worst)  # the kernel's lies in [0, 1] too
        results.append(ConstraintResult(str(c), c.threshold, claimed, holds, lam))
        witnesses.append({"lambda": format_rational(lam), "attained": mixture})
        if holds is False and counterexample is None:
            counterexample = {"constraint": i, **mixture}
    decided = [r.holds for r in results]
    status = "refuted" if counterexample is not None else "proved" if all(decided) else "unknown"
    reason = "" if status != "unknown" else "an enclosure of a worst value straddles its threshold"
    witness = {"arithmetic": "float", "states": small.n_states, "constraints": witnesses}
    if tail is not None:
        witness["tail"] = tail
    return AlignmentResult(status, tuple(results), claim(opt.j_star), witness, counterexample, reason=reason,
                           arrays=arrays)
