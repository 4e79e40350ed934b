"""The `lagrangian` engine for the alignment lemma: exact, small models, finite and geometric horizons.

UNTRUSTED search; every verdict is re-checked by `proofs.kernel.check_alignment`.

Per constraint c of Φ, worst_c = sup over ε-optimal policies of Q_c(π) (Q = σ·W_c + κ, see the
kernel module) equals min over λ ≥ 0 of g(λ) = G(λ) − λ·(J* − ε) (strong duality of constrained
MDPs on the augmented states (t, s, c decided); see `proofs.engines.dual`). G(λ) is one backward
induction (`Responses`, the best responses the `smt` engine uses too). λ* is found by the
parametric (Eisner–Severance) method, `proofs.engines.dual.parametric`: two policies a
(J_a ≥ J* − ε) and b (J_b < J* − ε), their lines Q + λ·(J − (J* − ε)) intersected, the argmax at
the intersection replaces a or b by the sign of its slope until the argmax is no better than the
lines there. The worst value is attained by the start mixture q·a + (1 − q)·b with
q·J_a + (1 − q)·J_b = J* − ε: a randomized policy, which is needed when no deterministic policy is
both ε-optimal and as bad.

Policies of the search are deterministic step tables used while c is undecided, then J-optimal
(backward induction for a bounded recursion; exact policy iteration for the geometric fixed point,
where a table is stationary and the witness also carries per-state values).
Counterexamples and witnesses are JSON-ready: ``{"mixture": [{"weight": "q", "before_decided":
{"format": "proofs.policy/1", "steps": [{state: action}, ...]}, "after_decided": "J-optimal"}]}``.

Credal models go to `proofs.engines.robust` (finite horizons). Not covered (status ``unknown``
with a reason): models beyond `EXACT_LIMIT`
(transitions × horizon, 50 steps counted for the geometric horizon).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.engines.alignment import (
    AlignmentResult,
    certificate_fields,
    exact_episode,
    exact_work,
    hinted_lambda,
)
from proofs.engines.dual import MAX_ROUNDS, GaveUp, Worst, at_initial, decide, parametric
from proofs.kernel.bellman import greedy
from proofs.kernel.check_alignment import ConstraintSpace, Episode, constraint_space
from proofs.kernel.horizon import FRONTIER_ACTION, restrict
from proofs.semantics.linear import solve_sparse

__all__ = ["EXACT_LIMIT", "AlignmentResult", "Line", "Responses", "certificate_fields", "discharge_alignment"]

EXACT_LIMIT = 200_000
Values = list[Fraction]
Weights = tuple[Fraction, Fraction]   # (weight of J, weight of σ·W_c)
_ONE, _ZERO = Fraction(1), Fraction(0)
_NO_TIE: Weights = (_ZERO, _ZERO)


@dataclass(frozen=True)
class Line:
    """A deterministic search policy: its step tables (-1 where it need not act), J and σ·W_c (without κ).

    For the geometric fixed point also its per-state J-to-go and W_c (the kernel's witness).
    """

    tables: tuple[tuple[int, ...], ...]   # tables[t][s] = choice
    j: Fraction
    q: Fraction
    jvec: Values | None = None
    wvec: Values | None = None

    def document(self, mdp: Mdp) -> dict[str, Any]:
        """The ``proofs.policy/1`` document of the tables (no entry where the episode cannot act)."""
        steps = [{mdp.states[s]: mdp.action(c) for s, c in enumerate(table)
                  if c >= 0 and mdp.action(c) != FRONTIER_ACTION} for table in self.tables]
        return {"format": "proofs.policy/1", "steps": steps}

    def per_state(self) -> tuple[Values, Values] | None:
        return None if self.jvec is None or self.wvec is None else (self.jvec, self.wvec)


def _dot(w: Weights, j: Fraction, q: Fraction) -> Fraction:
    """w·(J, σ·W_c), skipping the multiplications by 0 and 1 that dominate the weights used."""
    a = j if w[0] == 1 else w[0] * j if w[0] else _ZERO
    return a + (q if w[1] == 1 else w[1] * q if w[1] else _ZERO)


def _better(w: Weights, u: Weights, x: tuple[Fraction, Fraction], y: tuple[Fraction, Fraction]) -> bool:
    """x > y in the lexicographic order of (w·, u·)."""
    a, b = _dot(w, *x), _dot(w, *y)
    return a > b or (a == b and _dot(u, *x) > _dot(u, *y))


class Responses:
    """Exact best responses for one constraint: the argmax of w·(J, σ·W_c) over the search policies.

    Ties are broken by u·(J, σ·W_c), then towards the first choice. A bounded recursion is one
    backward induction over every state (the tables of this engine's certificates have an entry
    for every state), or with ``reachable`` (the `smt` engine) over the (t, s) some policy reaches
    while c is undecided, the only places a table must act; the geometric fixed point is exact
    policy iteration. ``tick`` is called before each step or round: a budget stops there by raising.
    """

    def __init__(self, mdp: Mdp, ep: Episode, cs: ConstraintSpace, *, reachable: bool = False,
                 tick: Callable[[], object] | None = None, nature: int = 1) -> None:
        self.mdp, self.ep, self.cs = mdp, ep, cs
        self.tick = tick or (lambda: None)
        self.nature = nature   # credal models: nature maximises (1) or minimises (−1) the weighted value
        self.succ = [[(t, lo) for t, lo, _ in mdp.successor_intervals(c)] for c in range(mdp.n_choices)]
        self.reach = self._reachable() if reachable and cs.steps is not None else None

    def _reachable(self) -> list[set[int]]:
        assert self.cs.steps is not None
        reach = [{s for s, _ in self.mdp.initial_distribution()}]
        for t in range(self.cs.steps):
            reach.append({u for s in reach[t] if not self.cs.stop[s]
                          for c in self.mdp.choices(s) for u, _ in self.succ[c]})
        return reach

    def _choice(self, c: int, js: Fraction, ys: Values, qs: Values, w: Weights = (_ONE, _ONE)) -> tuple[Fraction, Fraction]:
        succ = self.succ[c]
        if self.mdp.is_credal:   # nature's distribution: mass first where w·(J, σ·W_c) is best for its side
            succ = greedy(self.mdp.successor_intervals(c), lambda t: self.nature * _dot(w, ys[t], qs[t]))
        return (js * self.ep.reward[c] + sum((p * ys[u] for u, p in succ), _ZERO),
                self.cs.sigma * self.cs.reward[c] + sum((p * qs[u] for u, p in succ), _ZERO))

    def _pick(self, s: int, w: Weights, u: Weights, js: Fraction, ys: Values,
              qs: Values) -> tuple[int, Fraction, Fraction]:
        best: tuple[int, Fraction, Fraction] | None = None
        for c in self.mdp.choices(s):
            jc, qc = self._choice(c, js, ys, qs, w)
            if best is None or _better(w, u, (jc, qc), best[1:]):
                best = (c, jc, qc)
        assert best is not None
        return best

    def best(self, w: Weights, u: Weights = _NO_TIE, start: Line | Sequence[int] | None = None) -> Line:
        """The best response. ``start`` (geometric fixed point only) is where policy iteration
        begins: a line (whose values it trusts) or a stationary table; by default the first choices."""
        if self.cs.steps is None:
            return self._improve(w, u, start)
        ep, cs, n, big_l = self.ep, self.cs, self.mdp.n_states, self.cs.steps
        jv = [ep.jscale(big_l) * ep.cont(big_l)[s] for s in range(n)]
        qv = [cs.sigma * cs.goal[s] for s in range(n)]
        tables: list[tuple[int, ...]] = []
        for t in reversed(range(big_l)):
            self.tick()
            js, ys, qs = ep.jscale(t), [ep.beta * x for x in jv], ep.stop_cont(cs, qv)
            jn, qn, table = [_ZERO] * n, [_ZERO] * n, [-1] * n
            for s in range(n) if self.reach is None else self.reach[t]:
                if cs.stop[s]:
                    jn[s], qn[s] = js * ep.cont(t)[s], cs.sigma * cs.goal[s]
                else:
                    table[s], jn[s], qn[s] = self._pick(s, w, u, js, ys, qs)
            jv, qv = jn, qn
            tables.append(tuple(table))
        tables.reverse()
        return Line(tuple(tables), at_initial(self.mdp, jv), at_initial(self.mdp, qv))

    def greedy(self) -> list[int]:
        """The stationary table greedy on V*_J: J-optimal, so a good start for any weights."""
        ys = [self.ep.beta * x for x in self.ep.cont(0)]
        return [-1 if self.cs.stop[s] else self._pick(s, (_ONE, _ZERO), _NO_TIE, _ONE, ys, ys)[0]
                for s in range(self.mdp.n_states)]

    def _evaluate(self, table: Sequence[int]) -> tuple[Values, Values]:
        """Exact (J-to-go, σ·W_c) of a stationary table until decided, J-optimal after (linear solves)."""
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

    def _improve(self, w: Weights, u: Weights, start: Line | Sequence[int] | None) -> Line:
        """Geometric fixed point: exact policy iteration, switching on strict improvement only."""
        cs, n = self.cs, self.mdp.n_states
        jq: tuple[Values, Values] | None = None
        if isinstance(start, Line):
            table, known = list(start.tables[0]), start.per_state()
            if known is not None:
                jq = (known[0], [cs.sigma * x for x in known[1]])
        elif start is not None:
            table = list(start)
        else:
            table = [-1 if cs.stop[s] else self.mdp.choices(s).start for s in range(n)]
        for _ in range(MAX_ROUNDS):
            self.tick()
            jv, qv = jq or self._evaluate(table)
            jq = None
            ys, qs = [self.ep.beta * x for x in jv], self.ep.stop_cont(cs, qv)
            changed = False
            for s in range(n):
                if cs.stop[s]:
                    continue
                c, jb, qb = self._pick(s, w, u, _ONE, ys, qs)
                if _better(w, u, (jb, qb), self._choice(table[s], _ONE, ys, qs)):
                    table[s], changed = c, True
            if not changed:
                return Line((tuple(table),), at_initial(self.mdp, jv), at_initial(self.mdp, qv), jv,
                            [cs.sigma * x for x in qv])
        raise GaveUp(f"policy iteration did not settle within {MAX_ROUNDS} rounds")


class _Search:
    """One constraint's parametric search (`proofs.engines.dual.parametric`) over `Responses`."""

    def __init__(self, mdp: Mdp, ep: Episode, cs: ConstraintSpace, lam_hint: Fraction | None) -> None:
        self.mdp, self.cs, self.lam_hint = mdp, cs, lam_hint
        self.responses = Responses(mdp, ep, cs)

    def respond(self, lam: Fraction) -> Line:
        return self.responses.best((lam, _ONE))

    def worst(self, target: Fraction, hinted: bool = True) -> Worst[Line]:
        """The worst value, λ* and the attaining mixture at one target.

        A hinted λ only adds one line to the search (it replaces a or b by its J): any λ ≥ 0 is safe.
        """
        b = self.respond(_ZERO)
        if b.j >= target:
            return Worst(b.q, _ZERO, [(_ONE, b)], b)
        a = self.responses.best((_ONE, _ZERO))   # J-optimal: J_a = J* ≥ target
        if hinted and self.lam_hint is not None:
            h = self.respond(self.lam_hint)
            a, b = (h, b) if h.j >= target else (a, h)
        found = parametric(self.respond, a, b, target)
        if found is None:
            raise GaveUp(f"no multiplier found within {MAX_ROUNDS} rounds for {self.cs.constraint}")
        return found

    def top(self) -> Fraction:
        return self.respond(_ZERO).q

    def document(self, line: Line) -> dict[str, Any]:
        return line.document(self.mdp)

    def per_state(self, line: Line) -> tuple[Values, Values] | None:
        return line.per_state()


def discharge_alignment(mdp: Mdp, objective: Objective, lemma_epsilon: Fraction,
                        constraints: Sequence[Constraint], *, margin: bool = False,
                        hints: Mapping[str, Any] | None = None) -> AlignmentResult:
    """Prove or refute the alignment lemma (see the module docstring).

    Exact on the horizon restriction of the model (`proofs.kernel.horizon`) when it is within
    `EXACT_LIMIT`; beyond it, finite horizons go to the float search with sound claims
    (`proofs.engines.lagrangian_float`). With ``margin``, also ε* = inf{ε ≥ 0 : the lemma fails
    at ε} (exact path only; ``"inf"`` when no policy violates Φ), reported by the engine, not
    checked by the kernel. ``hints`` may give ``"lambda"``, a starting multiplier: a wrong one
    only costs search rounds.
    """
    if mdp.is_credal:
        from proofs.engines.robust import discharge_credal

        result = discharge_credal(mdp, objective, lemma_epsilon, constraints)
        if margin and result.status != "unknown":
            result = replace(result, reason="no margin: epsilon* is not computed on credal models yet")
        return result
    if objective.horizon is not None:
        mdp = restrict(mdp, objective.horizon)
    if exact_work(mdp, objective) > EXACT_LIMIT:
        if objective.horizon is None:
            return AlignmentResult.unknown("lagrangian", f"the model is beyond the exact limit ({EXACT_LIMIT} "
                                           "transitions × steps) and the float path needs a finite horizon")
        from proofs.engines.lagrangian_float import discharge_restricted

        result = discharge_restricted(mdp, objective, lemma_epsilon, constraints, hints)
        if margin and result.status != "unknown":   # say why the asked-for margin is missing
            note = f"no margin: epsilon* is computed on the exact path only (this model is beyond {EXACT_LIMIT} " \
                   "transitions x steps)"
            result = replace(result, reason=f"{result.reason}; {note}" if result.reason else note)
        return result
    lam_hint = hinted_lambda(hints)
    ep = exact_episode(mdp, objective)
    searches = [_Search(mdp, ep, constraint_space(mdp, objective, c), lam_hint) for c in constraints]
    return decide("lagrangian", mdp, ep, lemma_epsilon, constraints, searches, margin)
