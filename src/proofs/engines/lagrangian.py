"""The `lagrangian` engine for the alignment lemma: exact, small models, finite and geometric horizons.

UNTRUSTED search; every verdict is re-checked by `proofs.kernel.check_alignment`.

Per constraint c of Φ, worst_c = sup over ε-optimal policies of Q_c(π) (Q = σ·W_c + κ, see the
kernel module) equals min over λ ≥ 0 of g(λ) = G(λ) − λ·(J* − ε) (strong duality of constrained
MDPs on the augmented states (t, s, c decided)). G(λ) is one backward induction. λ* is found by the
parametric (Eisner–Severance) method: two policies a (J_a ≥ J* − ε) and b (J_b < J* − ε), their
lines Q + λ·(J − (J* − ε)) intersected, the argmax at the intersection replaces a or b by the sign
of its slope until the argmax is no better than the lines there. The worst value is attained by
the start mixture q·a + (1 − q)·b with q·J_a + (1 − q)·J_b = J* − ε: a randomized policy, which is
needed when no deterministic policy is both ε-optimal and as bad.

Policies of the search are deterministic step tables used while c is undecided, then J-optimal
(backward induction for a bounded recursion; exact policy iteration for the geometric fixed point,
where a table is stationary and the witness also carries per-state values).
Counterexamples and witnesses are JSON-ready: ``{"mixture": [{"weight": "q", "before_decided":
{"format": "proofs.policy/1", "steps": [{state: action}, ...]}, "after_decided": "J-optimal"}]}``.

Not covered (status ``unknown`` with a reason): credal models, and models beyond `EXACT_LIMIT`
(transitions × horizon, 50 steps counted for the geometric horizon).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from proofs.core.enclosure import Enclosure
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.rational import format_rational
from proofs.engines.alignment import (
    AlignmentResult,
    ConstraintResult,
    certificate_fields,
    exact_episode,
    hinted_lambda,
)
from proofs.engines.margin import newton_margin
from proofs.kernel.check_alignment import ConstraintSpace, Episode, constraint_space
from proofs.kernel.horizon import FRONTIER_ACTION, restrict
from proofs.semantics.linear import solve_sparse

__all__ = ["EXACT_LIMIT", "AlignmentResult", "certificate_fields", "discharge_alignment"]

EXACT_LIMIT = 200_000
_MAX_ROUNDS = 10_000
Values = list[Fraction]


@dataclass(frozen=True)
class _Line:
    """A deterministic search policy: its step tables, J and σ·W_c (without κ).

    For the geometric fixed point also its per-state J-to-go and W_c (the kernel's witness).
    """

    tables: tuple[tuple[int, ...], ...]   # tables[t][s] = choice (-1 at stop states)
    j: Fraction
    q: Fraction
    jvec: Values | None = None
    wvec: Values | None = None

    def at(self, lam: Fraction) -> Fraction:
        return self.q + lam * self.j


def _at_initial(mdp: Mdp, w: Values) -> Fraction:
    return sum((p * w[s] for s, p in mdp.initial_distribution()), Fraction(0))


def _choice(mdp: Mdp, ep: Episode, cs: ConstraintSpace, c: int, js: Fraction, ys: Values,
            qs: Values) -> tuple[Fraction, Fraction]:
    succ = mdp.successors(c)
    return (js * ep.reward[c] + sum((p * ys[u] for u, p in succ), Fraction(0)),
            cs.sigma * cs.reward[c] + sum((p * qs[u] for u, p in succ), Fraction(0)))


def _best(mdp: Mdp, ep: Episode, cs: ConstraintSpace, w_j: Fraction, w_q: Fraction) -> _Line:
    """The argmax of w_J·J + w_Q·σ·W_c over the search policies, with its exact J and σ·W_c."""
    if cs.steps is None:
        return _best_stationary(mdp, ep, cs, w_j, w_q)
    n, big_l = mdp.n_states, cs.steps
    jv = [ep.jscale(big_l) * ep.cont(big_l)[s] for s in range(n)]
    qv = [cs.sigma * cs.goal[s] for s in range(n)]
    tables: list[tuple[int, ...]] = []
    for t in reversed(range(big_l)):
        js, ys, qs = ep.jscale(t), [ep.beta * x for x in jv], ep.stop_cont(cs, qv)
        jn, qn, table = list(jv), list(qv), [-1] * n
        for s in range(n):
            if cs.stop[s]:
                jn[s], qn[s] = js * ep.cont(t)[s], cs.sigma * cs.goal[s]
                continue
            best = None
            for c in mdp.choices(s):
                jc, qc = _choice(mdp, ep, cs, c, js, ys, qs)
                if best is None or w_j * jc + w_q * qc > best[0]:
                    best = (w_j * jc + w_q * qc, c, jc, qc)
            assert best is not None
            _, table[s], jn[s], qn[s] = best
        jv, qv = jn, qn
        tables.append(tuple(table))
    tables.reverse()
    return _Line(tuple(tables), _at_initial(mdp, jv), _at_initial(mdp, qv))


def _evaluate_stationary(mdp: Mdp, ep: Episode, cs: ConstraintSpace, table: list[int]) -> tuple[Values, Values]:
    """Exact (J-to-go, σ·W_c) of a stationary table until decided, J-optimal after (linear solves)."""
    n = mdp.n_states
    live = [s for s in range(n) if not cs.stop[s]]
    index = {s: i for i, s in enumerate(live)}
    rows_j, rows_q = [], []
    for s in live:
        coeff = {index[s]: Fraction(1)}
        bj, bq = ep.reward[table[s]], cs.sigma * cs.reward[table[s]]
        for u, p in mdp.successors(table[s]):
            if cs.stop[u]:
                bj += p * ep.beta * ep.cont(0)[u]
                bq += p * cs.sigma * cs.goal[u]
            else:
                coeff[index[u]] = coeff.get(index[u], Fraction(0)) - p * ep.beta
        rows_j.append((coeff, bj))
        rows_q.append((dict(coeff), bq))
    xj = solve_sparse(rows_j, len(live)) if live else []
    xq = solve_sparse(rows_q, len(live)) if live else []
    jv = [ep.cont(0)[s] if cs.stop[s] else xj[index[s]] for s in range(n)]
    qv = [cs.sigma * cs.goal[s] if cs.stop[s] else xq[index[s]] for s in range(n)]
    return jv, qv


def _best_stationary(mdp: Mdp, ep: Episode, cs: ConstraintSpace, w_j: Fraction, w_q: Fraction) -> _Line:
    """Geometric fixed point: exact policy iteration (switch only on strict improvement)."""
    table = [-1 if cs.stop[s] else mdp.choices(s).start for s in range(mdp.n_states)]
    for _ in range(_MAX_ROUNDS):
        jv, qv = _evaluate_stationary(mdp, ep, cs, table)
        ys, qs = [ep.beta * x for x in jv], ep.stop_cont(cs, qv)
        changed = False
        for s in range(mdp.n_states):
            if cs.stop[s]:
                continue
            value = {c: _choice(mdp, ep, cs, c, Fraction(1), ys, qs) for c in mdp.choices(s)}
            score = {c: w_j * jc + w_q * qc for c, (jc, qc) in value.items()}
            best = max(score, key=lambda c: (score[c], -c))
            if score[best] > score[table[s]]:
                table[s], changed = best, True
        if not changed:
            return _Line((tuple(table),), _at_initial(mdp, jv), _at_initial(mdp, qv), jv,
                         [cs.sigma * x for x in qv])
    raise RuntimeError("policy iteration did not converge")


def _texts(values: Values) -> list[str]:
    return [format_rational(x) for x in values]


def _document(mdp: Mdp, line: _Line) -> dict[str, Any]:
    steps = [{mdp.states[s]: mdp.action(c) for s, c in enumerate(table) if c >= 0 and mdp.action(c) != FRONTIER_ACTION}
             for table in line.tables]
    return {"format": "proofs.policy/1", "steps": steps}


def _mixture(mdp: Mdp, parts: Sequence[tuple[Fraction, _Line]]) -> dict[str, Any]:
    out = []
    for q, line in parts:
        if q == 0:
            continue
        comp: dict[str, Any] = {"weight": format_rational(q), "before_decided": _document(mdp, line),
                                "after_decided": "J-optimal"}
        if line.jvec is not None and line.wvec is not None:
            comp["values"] = {"j": _texts(line.jvec), "w": _texts(line.wvec)}
        out.append(comp)
    return {"mixture": out}


@dataclass(frozen=True)
class _Worst:
    sup_q: Fraction                       # sup σ·W_c over J ≥ target (without κ)
    lam: Fraction
    parts: list[tuple[Fraction, _Line]]   # the attaining start mixture
    optimum: _Line                        # an optimal policy at λ (its values certify G(λ))


def _worst(mdp: Mdp, ep: Episode, cs: ConstraintSpace, target: Fraction,
           lam_hint: Fraction | None = None) -> _Worst | None:
    """The worst value, λ* and the attaining mixture, or None if the search ran long.

    A hinted λ only adds one line to the search (it replaces a or b by its J): any λ ≥ 0 is safe.
    """
    b = _best(mdp, ep, cs, Fraction(0), Fraction(1))
    if b.j >= target:
        return _Worst(b.q, Fraction(0), [(Fraction(1), b)], b)
    a = _best(mdp, ep, cs, Fraction(1), Fraction(0))   # J-optimal: J_a = J* ≥ target
    if lam_hint is not None and lam_hint >= 0:
        hinted = _best(mdp, ep, cs, lam_hint, Fraction(1))
        a, b = (hinted, b) if hinted.j >= target else (a, hinted)
    for _ in range(_MAX_ROUNDS):
        lam = (b.q - a.q) / (a.j - b.j)
        new = _best(mdp, ep, cs, lam, Fraction(1))
        if new.at(lam) <= a.at(lam):
            weight = (target - b.j) / (a.j - b.j)
            return _Worst(a.q + lam * (a.j - target), lam, [(weight, a), (1 - weight, b)], new)
        if new.j >= target:
            a = new
        else:
            b = new
    return None


def _margin(mdp: Mdp, ep: Episode, cs: ConstraintSpace, j_star: Fraction, constraint: Constraint) -> Fraction | None:
    """ε* for one constraint (None for "inf"), see `proofs.engines.margin`."""

    def worst_at(target: Fraction) -> tuple[Fraction, Fraction]:
        found = _worst(mdp, ep, cs, target)
        assert found is not None
        return found.sup_q, found.lam

    top = _best(mdp, ep, cs, Fraction(0), Fraction(1)).q
    return newton_margin(cs, constraint, top, j_star, worst_at)


def _exact_size(mdp: Mdp, objective: Objective) -> int:
    steps = objective.horizon if objective.horizon is not None else 50
    return mdp.n_transitions * steps


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
        return AlignmentResult("unknown", (), Enclosure(Fraction(0), Fraction(0)), {}, None,
                               reason="credal models are not supported by the lagrangian engine yet")
    if objective.horizon is not None:
        mdp = restrict(mdp, objective.horizon)
    if _exact_size(mdp, objective) > EXACT_LIMIT:
        if objective.horizon is None:
            return AlignmentResult("unknown", (), Enclosure(Fraction(0), Fraction(0)), {}, None,
                                   reason=f"the model is beyond the exact limit ({EXACT_LIMIT} transitions × "
                                          "steps) and the float path needs a finite horizon")
        from proofs.engines.lagrangian_float import discharge_restricted

        result = discharge_restricted(mdp, objective, lemma_epsilon, constraints, hints)
        if margin and result.status != "unknown":   # say why the asked-for margin is missing
            note = f"no margin: epsilon* is computed on the exact path only (this model is beyond {EXACT_LIMIT} " \
                   "transitions x steps)"
            result = replace(result, reason=f"{result.reason}; {note}" if result.reason else note)
        return result
    lam_hint = hinted_lambda(hints)
    ep = exact_episode(mdp, objective)
    j_star = _at_initial(mdp, ep.cont(0))
    target = j_star - lemma_epsilon
    results, witnesses, counterexample = [], [], None
    for i, c in enumerate(constraints):
        cs = constraint_space(mdp, objective, c)
        found = _worst(mdp, ep, cs, target, lam_hint)
        if found is None:
            return AlignmentResult("unknown", (), Enclosure.exact(j_star), {}, None,
                                   reason=f"no multiplier found within {_MAX_ROUNDS} rounds for {c}")
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
    status = "proved" if counterexample is None else "refuted"
    eps_star: Enclosure | str | None = None
    if margin:
        found_margins = [_margin(mdp, ep, constraint_space(mdp, objective, c), j_star, c) for c in constraints]
        finite = [m for m in found_margins if m is not None]
        eps_star = Enclosure.exact(min(finite)) if finite else "inf"
    witness: dict[str, Any] = {"constraints": witnesses}
    if objective.horizon is None:
        witness["j_values"] = _texts(ep.cont(0))
    return AlignmentResult(status, tuple(results), Enclosure.exact(j_star), witness, counterexample,
                           margin=eps_star)
