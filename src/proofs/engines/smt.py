"""The `smt` engine for the alignment lemma: Z3's exact rational LP over the projected dual.

UNTRUSTED search; every verdict is re-checked by `proofs.kernel.check_alignment`.

Per constraint c of Φ, worst_c = min over λ ≥ 0 of g(λ) = G(λ) − λ·(J* − ε) (Q = σ·W_c + κ, see
the kernel module), and G(λ) is the least solution of the value-variable LP over the bounded
unrolling (W_t(s) ≥ λ·d^t·r + σ·c + Σ P·(β·W_{t+1} + η·σ·g·[stops]) for every action, the decided
states and the last layer constants linear in λ). Handing that whole LP to Z3 with λ free is
exact but slow (λ's column makes the simplex tableau dense in huge rationals: 7 s at 10 states ×
3 actions and 110 s at 20 states, horizon 10), while the same LP with λ fixed is a triangular
system. So the W_t(s) are eliminated per time step: the Fourier–Motzkin projection of the LP
onto (λ, v) has one row v ≥ Q_π + λ·(J_π − (J* − ε)) per deterministic policy π (step tables
until c is decided, then J-optimal). Z3 (QF_LRA, `z3.Optimize`, exact) solves the projected LP
over the rows found so far (the *master*: min v over λ ≥ 0); a row violated at the master's
optimum (λ_k, v_k) is found by one exact Bellman pass at λ_k (backward induction, or exact policy
iteration for the geometric fixed point) and added, until the pass's best value equals v_k. Then
v_k = min g exactly (the master is a relaxation), λ_k is the certificate's multiplier, and two
rows active at λ_k, one with J ≥ J* − ε and one with J ≤ J* − ε (they exist by the master's
optimality), mixed at the start with the exact weight, attain v_k: the ``attained`` witness and
the counterexample. For the geometric fixed point the best response at λ_k also gives the
superharmonic ``values``.

``hints`` (all optional; wrong hints cost time, never change an answer):

* ``"lambda"``: a candidate multiplier, one `Fraction` for every constraint or a sequence with one
  entry (`Fraction` or None) per constraint. The two best responses at the candidate (ties broken
  towards higher and lower J) seed the master: for the optimal λ the first master solve is final.

Gives ``unknown`` with a reason for credal models, when ``timeout_ms`` (a budget for the whole
call, margin included) runs out, when Z3 answers ``unknown``, and after `MAX_ROUNDS` rounds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import z3

from proofs.engines.alignment import AlignmentResult, ConstraintResult, exact_episode
from proofs.engines.margin import newton_margin
from proofs.kernel.check_alignment import ConstraintSpace, Episode, constraint_space
from proofs.kernel.enclosure import Enclosure
from proofs.kernel.rational import format_rational
from proofs.semantics.linear import solve_sparse
from proofs.spec.formula import Constraint
from proofs.spec.objective import Objective
from proofs.worldmodel.model import Mdp

__all__ = ["HINT_KEYS", "MAX_ROUNDS", "discharge_alignment"]

HINT_KEYS = frozenset({"lambda"})
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


def _at_initial(mdp: Mdp, w: Values) -> Fraction:
    return sum((p * w[s] for s, p in mdp.initial_distribution()), _ZERO)


class _Oracle:
    """Exact best responses for one constraint: the argmax of w·(J, σ·W_c), ties broken by u·(J, σ·W_c)."""

    def __init__(self, mdp: Mdp, ep: Episode, cs: ConstraintSpace, budget: _Budget) -> None:
        self.mdp, self.ep, self.cs, self.budget = mdp, ep, cs, budget
        self.succ = [mdp.successors(c) for c in range(mdp.n_choices)]
        self.reach = self._reachable() if cs.steps is not None else []

    def _reachable(self) -> list[set[int]]:
        """The (t, s) any policy can reach while c is undecided: the only places a table acts."""
        assert self.cs.steps is not None
        reach = [{s for s, _ in self.mdp.initial_distribution()}]
        for t in range(self.cs.steps):
            reach.append({u for s in reach[t] if not self.cs.stop[s]
                          for c in self.mdp.choices(s) for u, _ in self.succ[c]})
        return reach

    def _choice(self, c: int, js: Fraction, ys: Values, qs: Values) -> tuple[Fraction, Fraction]:
        succ = self.succ[c]
        return (js * self.ep.reward[c] + sum((p * ys[u] for u, p in succ), _ZERO),
                self.cs.sigma * self.cs.reward[c] + sum((p * qs[u] for u, p in succ), _ZERO))

    def _pick(self, s: int, w: Weights, u: Weights, js: Fraction, ys: Values,
              qs: Values) -> tuple[int, Fraction, Fraction]:
        best: tuple[tuple[Fraction, Fraction], int, Fraction, Fraction] | None = None
        for c in self.mdp.choices(s):
            jc, qc = self._choice(c, js, ys, qs)
            key = (w[0] * jc + w[1] * qc, u[0] * jc + u[1] * qc)
            if best is None or key > best[0]:
                best = (key, c, jc, qc)
        assert best is not None
        return best[1], best[2], best[3]

    def best(self, w: Weights, u: Weights) -> _Row:
        if self.cs.steps is None:
            return self._best_stationary(w, u)
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

    def _best_stationary(self, w: Weights, u: Weights) -> _Row:
        """Geometric fixed point: exact policy iteration on the lexicographic pair (w·, u·)."""
        cs, n = self.cs, self.mdp.n_states
        table = [-1 if cs.stop[s] else self.mdp.choices(s).start for s in range(n)]
        for _ in range(MAX_ROUNDS):
            self.budget.remaining_ms()
            jv, qv = self._evaluate(table)
            ys, qs = [self.ep.beta * x for x in jv], self.ep.stop_cont(cs, qv)
            changed = False
            for s in range(n):
                if cs.stop[s]:
                    continue
                jc, qc = self._choice(table[s], _ONE, ys, qs)
                c, jb, qb = self._pick(s, w, u, _ONE, ys, qs)
                if (w[0] * jb + w[1] * qb, u[0] * jb + u[1] * qb) > (w[0] * jc + w[1] * qc, u[0] * jc + u[1] * qc):
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

    def __init__(self, oracle: _Oracle, seeds: Sequence[Fraction], ctx: z3.Context) -> None:
        self.oracle, self.ctx = oracle, ctx
        self.rows: dict[tuple[tuple[int, ...], ...], _Row] = {}
        self.add(oracle.best((_ONE, _ZERO), (_ZERO, _ONE)))      # J-optimal: bounds the master below
        self.top = self.add(oracle.best((_ZERO, _ONE), (_ONE, _ZERO)))
        for lam in seeds:
            self.add(oracle.best((lam, _ONE), (_ONE, _ZERO)))
            self.add(oracle.best((lam, _ONE), (-_ONE, _ZERO)))

    def add(self, row: _Row) -> _Row:
        return self.rows.setdefault(row.tables, row)

    def worst(self, target: Fraction) -> _Worst:
        budget = self.oracle.budget
        for _ in range(MAX_ROUNDS):
            lam = _master(list(self.rows.values()), target, budget, self.ctx)
            v = max(row.at(lam, target) for row in self.rows.values())
            response = self.oracle.best((lam, _ONE), (_ONE, _ZERO))
            if response.at(lam, target) <= v:
                self.add(response)
                return self._attained(lam, v, target, response)
            self.add(response)
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


def _seeds(hints: Mapping[str, Any] | None, count: int) -> list[list[Fraction]]:
    """The hinted multipliers per constraint (see the module docstring)."""
    if not hints:
        return [[] for _ in range(count)]
    unknown = set(hints) - HINT_KEYS
    if unknown:
        raise ValueError(f"unknown hint keys {sorted(unknown)}; the smt engine knows {sorted(HINT_KEYS)}")
    lam = hints.get("lambda")
    if lam is None:
        return [[] for _ in range(count)]
    if isinstance(lam, Sequence) and not isinstance(lam, str):
        if len(lam) != count:
            raise ValueError(f"hints['lambda'] has {len(lam)} entries for {count} constraints")
        return [[] if x is None else [Fraction(x)] for x in lam]
    return [[Fraction(lam)] for _ in range(count)]


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
        Optional ``{"lambda": ...}`` (see the module docstring); never changes an answer.
    timeout_ms
        A budget for the whole call; when it runs out the status is ``unknown``.

    Returns
    -------
    AlignmentResult
        ``engine="smt"``, with the witness `proofs.kernel.check_alignment` re-checks.

    Raises
    ------
    ValueError
        For unknown hint keys or a ``lambda`` hint of the wrong length.
    """
    seeds = _seeds(hints, len(constraints))
    budget = _Budget(timeout_ms)
    if mdp.is_credal:
        return _unknown(Enclosure(_ZERO, _ZERO), "credal models are not supported by the smt engine")
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
            search = _Search(_Oracle(mdp, ep, cs, budget), seeds[i], ctx)
            found = search.worst(j_star - epsilon)
            searches.append((c, cs, search))
            worst = cs.reported(cs.kappa + found.sup_q)
            holds = c.comparison.holds(worst, c.threshold)
            results.append(ConstraintResult(str(c), c.threshold, Enclosure.exact(worst), holds, found.lam))
            wit: dict[str, Any] = {"lambda": format_rational(found.lam), "attained": _mixture(mdp, found.parts)}
            opt = found.optimum
            if opt.jvec is not None and opt.wvec is not None:   # the geometric fixed point: G(λ) values
                wit["values"] = _texts([found.lam * j + cs.sigma * w for j, w in zip(opt.jvec, opt.wvec)])
            witnesses.append(wit)
            if not holds and counterexample is None:
                counterexample = {"constraint": i, **_mixture(mdp, found.parts)}
        eps_star = _margin(searches, j_star) if margin else None
    except _GaveUp as exc:
        return _unknown(Enclosure.exact(j_star), str(exc))
    witness: dict[str, Any] = {"constraints": witnesses}
    if objective.horizon is None:
        witness["j_values"] = _texts(ep.cont(0))
    return AlignmentResult("proved" if counterexample is None else "refuted", tuple(results),
                           Enclosure.exact(j_star), witness, counterexample, engine="smt", margin=eps_star)


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
