"""The `smt` engine for the alignment lemma: Z3's exact rational LP over the projected dual.

UNTRUSTED search; every verdict is re-checked by `proofs.kernel.check_alignment`.

Per constraint c of Φ, sup Q over the ε-optimal policies is κ + min over λ ≥ 0 of g(λ) = G(λ) −
λ·(J* − ε) (Q = σ·W_c + κ, strong duality; see the kernel module and `proofs.engines.lagrangian`),
and G(λ) = Σ μ₀·W_0 for the least solution W of the value-variable LP over the bounded unrolling:
W_t(s) ≥ λ·d^t·r + σ·c + Σ P·(β·W_{t+1} + η·σ·g·[stops]) for every action, the decided states and
the last layer being constants linear in λ (V*_J is computed exactly first).

*Encoding.* That whole LP handed to Z3 with λ free is exact but slow: λ's column fills the simplex
tableau with huge rationals (7 s at 10 states × 3 actions, 110 s at 20 states, horizon 10), while
for a fixed λ the LP is triangular. So the W_t(s) are eliminated per time step: the projection of
the LP onto (λ, v), v ≥ g(λ), has one row v ≥ Q_π + λ·(J_π − (J* − ε)) per deterministic policy π
(step tables until c is decided, then J-optimal; the Fourier–Motzkin rows). Z3 (QF_LRA,
`z3.Optimize`, exact) solves the projected LP over the rows found so far (the *master*: min v over
λ ≥ 0). A row violated at the master's optimum (λ_k, v_k) is found by one exact Bellman pass at λ_k
(backward induction over the reachable (t, s), or exact policy iteration for the geometric fixed
point, warm-started from the best row so far) and added, until the pass's best value equals v_k:
then v_k = min g exactly (the master is a relaxation) and λ_k is the certificate's multiplier.

*Attaining policy.* The master's optimality gives two rows active at λ_k, one with J ≥ J* − ε and
one with J ≤ J* − ε; mixed at the start with the exact weight they attain v_k (the ``attained``
witness and, if c fails, the counterexample). For the geometric fixed point the best response at
λ_k also gives the superharmonic ``values``.

*Seeds* (hints, never trusted: they only add valid rows): for a bounded recursion a float
bisection on the sign of J(best response at λ) − (J* − ε) brackets λ*, and the exact best responses
at both ends usually are the two rows the master needs, so most solves take three exact passes.
``hints`` (optional; a wrong hint costs time, never changes an answer; the keys are shared with
the other alignment engines, and keys or entries this engine does not use are ignored) may add:

* ``"lambda"``: a multiplier, or a list of them (numbers, `Fraction` or text; negative ones are
  ignored). The two best responses at each (ties broken towards higher and lower J) seed the
  master: for the optimal λ the first master solve is final.
* ``"constraints"``: a list of mappings with these keys, one per constraint, overriding the rest.

A finite horizon H works on the horizon restriction of the model (`proofs.kernel.horizon`: the
states within H steps of μ₀; it changes no value), as the kernel does.

Gives ``unknown`` with a reason for credal models, when ``timeout_ms`` (a budget for the whole
call, margin included; checked between exact passes and passed on to Z3) runs out, when Z3 answers
``unknown``, and after `MAX_ROUNDS` rounds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import z3

from proofs.core.enclosure import Enclosure
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.rational import format_rational
from proofs.engines.alignment import (
    AlignmentResult,
    ConstraintResult,
    constraint_hints,
    exact_episode,
    hinted_lambdas,
)
from proofs.engines.margin import newton_margin
from proofs.kernel.check_alignment import ConstraintSpace, Episode, constraint_space
from proofs.kernel.horizon import restrict
from proofs.semantics.linear import solve_sparse

__all__ = ["MAX_ROUNDS", "discharge_alignment"]

MAX_ROUNDS = 10_000
Values = list[Fraction]
Weights = tuple[Fraction, Fraction]   # (weight of J, weight of σ·W_c)
_ONE, _ZERO = Fraction(1), Fraction(0)


class _GaveUp(Exception):
    """The budget ran out or Z3 answered unknown: the result is ``unknown`` with this reason."""


class _Budget:
    def __init__(self, timeout_ms: int | None) -> None:
        self.deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000

    def remaining_ms(self) -> int | None:
        """Milliseconds left (None: unlimited); gives up when none are left."""
        if self.deadline is None:
            return None
        left = int((self.deadline - time.monotonic()) * 1000)
        if left <= 0:
            raise _GaveUp("the timeout ran out")
        return left


@dataclass(frozen=True)
class _Row:
    """A deterministic policy: step tables (-1 where it need not act), J and σ·W_c (without κ).

    The geometric fixed point also keeps the per-state J-to-go and W_c (the kernel's witness).
    """

    tables: tuple[tuple[int, ...], ...]
    j: Fraction
    q: Fraction
    jvec: Values | None = None
    wvec: Values | None = None

    def at(self, lam: Fraction, target: Fraction) -> Fraction:
        return self.q + lam * (self.j - target)


def _dot(w: Weights, j: Fraction, q: Fraction) -> Fraction:
    """w·(J, σ·W_c), skipping the multiplications by 0 and 1 that dominate the weights used."""
    a = j if w[0] == 1 else w[0] * j if w[0] else _ZERO
    return a + (q if w[1] == 1 else w[1] * q if w[1] else _ZERO)


def _better(w: Weights, u: Weights, x: tuple[Fraction, Fraction], y: tuple[Fraction, Fraction]) -> bool:
    """x > y in the lexicographic order of (w·, u·)."""
    a, b = _dot(w, *x), _dot(w, *y)
    return a > b or (a == b and _dot(u, *x) > _dot(u, *y))


def _at_initial(mdp: Mdp, w: Values) -> Fraction:
    return sum((p * w[s] for s, p in mdp.initial_distribution()), _ZERO)


class _FloatModel:
    """The bounded recursion in floats, for the bisection that seeds the master (UNTRUSTED hint)."""

    def __init__(self, mdp: Mdp, ep: Episode, cs: ConstraintSpace) -> None:
        assert cs.steps is not None
        self.mdp, self.steps, self.beta, self.eta = mdp, cs.steps, float(ep.beta), float(ep.eta)
        self.p, self.rows = mdp.float_probability, mdp.row_start[:-1]
        self.r = np.array([float(x) for x in ep.reward])
        self.c = np.array([float(cs.sigma * x) for x in cs.reward])
        self.g = np.array([float(cs.sigma * x) for x in cs.goal])
        self.stop = np.array(cs.stop, dtype=bool)
        self.js = [float(ep.jscale(t)) for t in range(cs.steps + 1)]
        self.cont = [np.array([float(x) for x in ep.cont(t)]) for t in range(cs.steps + 1)]
        self.first = np.arange(mdp.n_choices)

    def response_j(self, lam: float) -> float:
        mdp, starts = self.mdp, self.mdp.choice_start[:-1]
        jv, qv = self.js[-1] * self.cont[-1], self.g.copy()
        for t in reversed(range(self.steps)):
            ys, qs = self.beta * jv, self.beta * qv + self.eta * self.g
            jc = self.js[t] * self.r + np.add.reduceat(self.p * ys[mdp.target], self.rows)
            qc = self.c + np.add.reduceat(self.p * qs[mdp.target], self.rows)
            score = lam * jc + qc
            top = np.maximum.reduceat(score, starts)[mdp.choice_state]
            pick = np.minimum.reduceat(np.where(score >= top, self.first, mdp.n_choices), starts)
            jv = np.where(self.stop, self.js[t] * self.cont[t], jc[pick])
            qv = np.where(self.stop, self.g, qc[pick])
        return float(sum(float(p) * jv[s] for s, p in mdp.initial_distribution()))


class _Oracle:
    """Exact best responses for one constraint: the argmax of w·(J, σ·W_c), ties broken by u·(J, σ·W_c)."""

    def __init__(self, mdp: Mdp, ep: Episode, cs: ConstraintSpace, budget: _Budget) -> None:
        self.mdp, self.ep, self.cs, self.budget = mdp, ep, cs, budget
        self.succ = [mdp.successors(c) for c in range(mdp.n_choices)]
        self.reach = self._reachable() if cs.steps is not None else []
        self._floats: _FloatModel | None = None

    def _reachable(self) -> list[set[int]]:
        """The (t, s) any policy can reach while c is undecided: the only places a table acts."""
        assert self.cs.steps is not None
        reach = [{s for s, _ in self.mdp.initial_distribution()}]
        for t in range(self.cs.steps):
            reach.append({u for s in reach[t] if not self.cs.stop[s]
                          for c in self.mdp.choices(s) for u, _ in self.succ[c]})
        return reach

    def float_bracket(self, target: Fraction) -> list[Fraction]:
        """Two multipliers around λ* by float bisection (bounded recursions only; a hint, never trusted).

        J of the best response at λ is nondecreasing in λ, and λ* is where it crosses the target; the
        exact best responses at the two ends are then, typically, the two rows the master needs.
        """
        if self.cs.steps is None:
            return []
        goal = float(target) - 1e-9 * (1 + abs(float(target)))
        if self._float_j(0.0) >= goal:
            return [_ZERO]
        lo, hi = 0.0, 1.0
        while self._float_j(hi) < goal:
            lo, hi = hi, hi * 4
            if hi > 1e30:
                return []
        while hi - lo > 1e-12 * max(hi, 1e-6):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if self._float_j(mid) >= goal else (mid, hi)
        return [Fraction(lo), Fraction(hi)]

    def _float_j(self, lam: float) -> float:
        """J of the best response at λ, in floats (vectorised backward induction)."""
        if self._floats is None:
            self._floats = _FloatModel(self.mdp, self.ep, self.cs)
        return self._floats.response_j(lam)

    def _choice(self, c: int, js: Fraction, ys: Values, qs: Values) -> tuple[Fraction, Fraction]:
        succ = self.succ[c]
        return (js * self.ep.reward[c] + sum((p * ys[u] for u, p in succ), _ZERO),
                self.cs.sigma * self.cs.reward[c] + sum((p * qs[u] for u, p in succ), _ZERO))

    def _pick(self, s: int, w: Weights, u: Weights, js: Fraction, ys: Values,
              qs: Values) -> tuple[int, Fraction, Fraction]:
        best: tuple[int, Fraction, Fraction] | None = None
        for c in self.mdp.choices(s):
            jc, qc = self._choice(c, js, ys, qs)
            if best is None or _better(w, u, (jc, qc), best[1:]):
                best = (c, jc, qc)
        assert best is not None
        return best

    def best(self, w: Weights, u: Weights, start: _Row | None = None) -> _Row:
        """The best response; ``start`` (the geometric fixed point only) warm-starts policy iteration."""
        if self.cs.steps is None:
            return self._best_stationary(w, u, start)
        ep, cs, n, big_l = self.ep, self.cs, self.mdp.n_states, self.cs.steps
        jv = [ep.jscale(big_l) * ep.cont(big_l)[s] for s in range(n)]
        qv = [cs.sigma * cs.goal[s] for s in range(n)]
        tables: list[tuple[int, ...]] = []
        for t in reversed(range(big_l)):
            self.budget.remaining_ms()
            js, ys, qs = ep.jscale(t), [ep.beta * x for x in jv], ep.stop_cont(cs, qv)
            jn, qn, table = [_ZERO] * n, [_ZERO] * n, [-1] * n
            for s in self.reach[t]:
                if cs.stop[s]:
                    jn[s], qn[s] = js * ep.cont(t)[s], cs.sigma * cs.goal[s]
                else:
                    table[s], jn[s], qn[s] = self._pick(s, w, u, js, ys, qs)
            jv, qv = jn, qn
            tables.append(tuple(table))
        tables.reverse()
        return _Row(tuple(tables), _at_initial(self.mdp, jv), _at_initial(self.mdp, qv))

    def _evaluate(self, table: list[int]) -> tuple[Values, Values]:
        """Exact (J-to-go, σ·W_c) of a stationary table until decided, J-optimal after."""
        ep, cs, n = self.ep, self.cs, self.mdp.n_states
        live = [s for s in range(n) if not cs.stop[s]]
        index = {s: i for i, s in enumerate(live)}
        rows_j, rows_q = [], []
        for s in live:
            coeff = {index[s]: _ONE}
            bj, bq = ep.reward[table[s]], cs.sigma * cs.reward[table[s]]
            for v, p in self.succ[table[s]]:
                if cs.stop[v]:
                    bj += p * ep.beta * ep.cont(0)[v]
                    bq += p * cs.sigma * cs.goal[v]
                else:
                    coeff[index[v]] = coeff.get(index[v], _ZERO) - p * ep.beta
            rows_j.append((coeff, bj))
            rows_q.append((dict(coeff), bq))
        xj = solve_sparse(rows_j, len(live)) if live else []
        xq = solve_sparse(rows_q, len(live)) if live else []
        return ([ep.cont(0)[s] if cs.stop[s] else xj[index[s]] for s in range(n)],
                [cs.sigma * cs.goal[s] if cs.stop[s] else xq[index[s]] for s in range(n)])

    def _best_stationary(self, w: Weights, u: Weights, start: _Row | None) -> _Row:
        """Geometric fixed point: exact policy iteration on the lexicographic pair (w·, u·)."""
        cs, n = self.cs, self.mdp.n_states
        if start is None:   # J-greedy on V*_J: J-optimal, so a good start for any weights
            ys = [self.ep.beta * x for x in self.ep.cont(0)]
            table = [-1 if cs.stop[s] else self._pick(s, (_ONE, _ZERO), (_ZERO, _ZERO), _ONE, ys, ys)[0]
                     for s in range(n)]
            known = None
        else:
            table = list(start.tables[0])
            known = None if start.jvec is None or start.wvec is None else \
                (start.jvec, [cs.sigma * x for x in start.wvec])
        for _ in range(MAX_ROUNDS):
            self.budget.remaining_ms()
            jv, qv = known or self._evaluate(table)
            known = None
            ys, qs = [self.ep.beta * x for x in jv], self.ep.stop_cont(cs, qv)
            changed = False
            for s in range(n):
                if cs.stop[s]:
                    continue
                c, jb, qb = self._pick(s, w, u, _ONE, ys, qs)
                if _better(w, u, (jb, qb), self._choice(table[s], _ONE, ys, qs)):
                    table[s], changed = c, True
            if not changed:
                return _Row((tuple(table),), _at_initial(self.mdp, jv), _at_initial(self.mdp, qv), jv,
                            [cs.sigma * x for x in qv])
        raise _GaveUp(f"policy iteration did not settle within {MAX_ROUNDS} rounds")


def _z3_rational(x: Fraction, ctx: z3.Context) -> Any:
    return z3.RealVal(f"{x.numerator}/{x.denominator}", ctx)


def _master(rows: Sequence[_Row], target: Fraction, budget: _Budget, ctx: z3.Context) -> Fraction:
    """λ minimising max over the rows of Q + λ·(J − target) over λ ≥ 0: Z3's exact LP optimum."""
    lam, v = z3.Real("lambda", ctx), z3.Real("v", ctx)
    opt = z3.Optimize(ctx=ctx)
    left = budget.remaining_ms()
    if left is not None:
        opt.set("timeout", left)
    opt.add(lam >= 0)
    for row in rows:
        opt.add(v >= _z3_rational(row.q, ctx) + _z3_rational(row.j - target, ctx) * lam)
    opt.minimize(v)
    answer = opt.check()
    if answer != z3.sat:
        raise _GaveUp(f"Z3 answered {answer} on the master LP ({opt.reason_unknown()})")
    value = opt.model().eval(lam, model_completion=True)
    return Fraction(value.numerator_as_long(), value.denominator_as_long())


@dataclass(frozen=True)
class _Worst:
    sup_q: Fraction                       # sup σ·W_c over J ≥ target (without κ)
    lam: Fraction
    parts: list[tuple[Fraction, _Row]]    # the attaining start mixture
    optimum: _Row                         # a best response at λ (its values certify G(λ))


class _Search:
    """The rows found so far for one constraint (they do not depend on the target) and the oracle."""

    def __init__(self, oracle: _Oracle, hinted: Sequence[Fraction], ctx: z3.Context) -> None:
        self.oracle, self.ctx = oracle, ctx
        self.rows: dict[tuple[tuple[int, ...], ...], _Row] = {}
        self._top: _Row | None = None
        for lam in hinted:   # both ties: at the optimal λ one row of each side of the target
            self.respond(lam, _ONE)
            self.respond(lam, -_ONE)

    def respond(self, lam: Fraction, tie: Fraction = _ONE) -> _Row:
        """Add and return the best response at λ (ties towards higher J for ``tie`` = 1, lower for -1)."""
        near = max(self.rows.values(), key=lambda row: row.q + lam * row.j, default=None)
        row = self.oracle.best((lam, _ONE), (tie, _ZERO), near)
        return self.rows.setdefault(row.tables, row)

    @property
    def top(self) -> _Row:
        """A policy with the largest σ·W_c of all (ties towards higher J)."""
        if self._top is None:
            self._top = self.respond(_ZERO)
        return self._top

    def worst(self, target: Fraction) -> _Worst:
        for lam in self.oracle.float_bracket(target):
            self.respond(lam)
        if all(row.j < target for row in self.rows.values()):   # the master needs a row with J ≥ target
            row = self.oracle.best((_ONE, _ZERO), (_ZERO, _ONE))
            self.rows.setdefault(row.tables, row)
        for _ in range(MAX_ROUNDS):
            lam = _master(list(self.rows.values()), target, self.oracle.budget, self.ctx)
            v = max(row.at(lam, target) for row in self.rows.values())
            response = self.respond(lam)
            if response.at(lam, target) <= v:
                return self._attained(lam, v, target, response)
        raise _GaveUp(f"no multiplier found within {MAX_ROUNDS} rounds")

    def _attained(self, lam: Fraction, v: Fraction, target: Fraction, response: _Row) -> _Worst:
        active = [row for row in self.rows.values() if row.at(lam, target) == v]
        a, b = max(active, key=lambda r: r.j), min(active, key=lambda r: r.j)
        if a.j < target or (b.j > target and lam > 0):
            raise _GaveUp("the master LP's optimum is not optimal (no attaining pair of rows)")
        if lam == 0 or b.j >= target:   # then a, or b with J_b = target, alone attains v
            parts = [(_ONE, a if lam == 0 else b)]
        else:
            weight = (target - b.j) / (a.j - b.j)
            parts = [(weight, a), (1 - weight, b)]
        if sum((q * r.q for q, r in parts), _ZERO) != v:
            raise _GaveUp("the attaining mixture misses the master LP's optimum")
        return _Worst(v, lam, parts, response)


def _texts(values: Values) -> list[str]:
    return [format_rational(x) for x in values]


def _mixture(mdp: Mdp, parts: Sequence[tuple[Fraction, _Row]]) -> dict[str, Any]:
    out = []
    for q, row in parts:
        if q == 0:
            continue
        steps = [{mdp.states[s]: mdp.action(c) for s, c in enumerate(table) if c >= 0} for table in row.tables]
        comp: dict[str, Any] = {"weight": format_rational(q),
                                "before_decided": {"format": "proofs.policy/1", "steps": steps},
                                "after_decided": "J-optimal"}
        if row.jvec is not None and row.wvec is not None:
            comp["values"] = {"j": _texts(row.jvec), "w": _texts(row.wvec)}
        out.append(comp)
    return {"mixture": out}


def _unknown(j_star: Enclosure, reason: str) -> AlignmentResult:
    return AlignmentResult("unknown", (), j_star, {}, None, engine="smt", reason=reason)


def discharge_alignment(mdp: Mdp, objective: Objective, epsilon: Fraction, constraints: Sequence[Constraint], *,
                        margin: bool = False, hints: Mapping[str, Any] | None = None,
                        timeout_ms: int | None = None) -> AlignmentResult:
    """Prove or refute the alignment lemma exactly with Z3 (see the module docstring).

    Parameters
    ----------
    mdp, objective, epsilon, constraints
        The lemma: every policy with J ≥ J* − ε satisfies every constraint.
    margin
        Also compute ε* = inf{ε ≥ 0 : the lemma fails at ε} (exact; ``"inf"`` when no policy
        violates Φ). ε* is reported by the engine, not checked by the kernel.
    hints
        Optional seeds (see the module docstring); a wrong hint never changes an answer.
    timeout_ms
        A budget for the whole call; when it runs out the status is ``unknown``.

    Returns
    -------
    AlignmentResult
        ``engine="smt"``, with the witness `proofs.kernel.check_alignment` re-checks.

    """
    budget = _Budget(timeout_ms)
    if mdp.is_credal:
        return _unknown(Enclosure(_ZERO, _ZERO), "credal models are not supported by the smt engine")
    if objective.horizon is not None:
        mdp = restrict(mdp, objective.horizon)   # what the horizon can see; changes no value
    try:
        budget.remaining_ms()
        ep = exact_episode(mdp, objective)
    except _GaveUp as exc:
        return _unknown(Enclosure(_ZERO, _ZERO), f"{exc} (computing J*)")
    j_star = _at_initial(mdp, ep.cont(0))
    ctx = z3.Context()
    results, witnesses, searches = [], [], []
    counterexample: dict[str, Any] | None = None
    try:
        for i, c in enumerate(constraints):
            cs = constraint_space(mdp, objective, c)
            searches.append((c, cs, _Search(_Oracle(mdp, ep, cs, budget), hinted_lambdas(constraint_hints(hints, i)), ctx)))
            result, wit, parts = _discharge_one(mdp, c, cs, searches[-1][2], j_star - epsilon)
            results.append(result)
            witnesses.append(wit)
            if not result.holds and counterexample is None:
                counterexample = {"constraint": i, **_mixture(mdp, parts)}
        eps_star = _margin(searches, j_star) if margin else None
    except _GaveUp as exc:
        return _unknown(Enclosure.exact(j_star), str(exc))
    witness: dict[str, Any] = {"constraints": witnesses}
    if objective.horizon is None:
        witness["j_values"] = _texts(ep.cont(0))
    return AlignmentResult("proved" if counterexample is None else "refuted", tuple(results),
                           Enclosure.exact(j_star), witness, counterexample, engine="smt", margin=eps_star)


def _discharge_one(mdp: Mdp, c: Constraint, cs: ConstraintSpace, search: _Search,
                   target: Fraction) -> tuple[ConstraintResult, dict[str, Any], list[tuple[Fraction, _Row]]]:
    """One constraint's result, its witness and its attaining mixture."""
    found = search.worst(target)
    worst = cs.reported(cs.kappa + found.sup_q)
    result = ConstraintResult(str(c), c.threshold, Enclosure.exact(worst), c.comparison.holds(worst, c.threshold),
                              found.lam)
    wit: dict[str, Any] = {"lambda": format_rational(found.lam), "attained": _mixture(mdp, found.parts)}
    opt = found.optimum
    if opt.jvec is not None and opt.wvec is not None:   # the geometric fixed point: G(λ) values
        wit["values"] = _texts([found.lam * j + cs.sigma * w for j, w in zip(opt.jvec, opt.wvec)])
    return result, wit, found.parts


def _margin(searches: Sequence[tuple[Constraint, ConstraintSpace, _Search]], j_star: Fraction) -> Enclosure | str:
    """ε*, the smallest over the constraints (see `proofs.engines.margin`); rows are reused."""
    found = []
    for c, cs, search in searches:

        def worst_at(target: Fraction, search: _Search = search) -> tuple[Fraction, Fraction]:
            w = search.worst(target)
            return w.sup_q, w.lam

        m = newton_margin(cs, c, search.top.q, j_star, worst_at)
        if m is not None:
            found.append(m)
    return Enclosure.exact(min(found)) if found else "inf"
