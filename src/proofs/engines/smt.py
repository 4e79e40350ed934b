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
(the lagrangian engine's best response, `proofs.engines.lagrangian.Responses`: backward induction
over the reachable (t, s), or exact policy iteration for the geometric fixed point, warm-started
from the best row so far) and added, until the pass's best value equals v_k: then v_k = min g
exactly (the master is a relaxation) and λ_k is the certificate's multiplier. This master is what
sets the engine apart; the verdict, the witness and the margin come from `proofs.engines.dual`.

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
from fractions import Fraction
from typing import Any

import numpy as np
import z3

from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.engines.alignment import AlignmentResult, constraint_hints, exact_episode, hinted_lambdas
from proofs.engines.dual import MAX_ROUNDS, GaveUp, Worst, decide, lifted, mixed
from proofs.engines.lagrangian import Line, Responses, Weights
from proofs.kernel.check_alignment import ConstraintSpace, Episode, constraint_space
from proofs.kernel.horizon import restrict

__all__ = ["MAX_ROUNDS", "discharge_alignment"]

Values = list[Fraction]
_ONE, _ZERO = Fraction(1), Fraction(0)


class _Budget:
    def __init__(self, timeout_ms: int | None) -> None:
        self.deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000

    def remaining_ms(self) -> int | None:
        """Milliseconds left (None: unlimited); gives up when none are left."""
        if self.deadline is None:
            return None
        left = int((self.deadline - time.monotonic()) * 1000)
        if left <= 0:
            raise GaveUp("the timeout ran out")
        return left

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


class _Oracle(Responses):
    """The lagrangian engine's exact best responses on the reachable (t, s), within the budget; policy
    iteration starts from the J-greedy table unless warm-started."""

    def __init__(self, mdp: Mdp, ep: Episode, cs: ConstraintSpace, budget: _Budget) -> None:
        super().__init__(mdp, ep, cs, reachable=True, tick=budget.remaining_ms)
        self.budget = budget
        self._floats: _FloatModel | None = None

    def best(self, w: Weights, u: Weights = (_ZERO, _ZERO), start: Line | Sequence[int] | None = None) -> Line:
        if start is None and self.cs.steps is None:
            start = self.greedy()
        return super().best(w, u, start)

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


def _z3_rational(x: Fraction, ctx: z3.Context) -> Any:
    return z3.RealVal(f"{x.numerator}/{x.denominator}", ctx)


def _master(rows: Sequence[Line], target: Fraction, budget: _Budget, ctx: z3.Context) -> Fraction:
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
        raise GaveUp(f"Z3 answered {answer} on the master LP ({opt.reason_unknown()})")
    value = opt.model().eval(lam, model_completion=True)
    return Fraction(value.numerator_as_long(), value.denominator_as_long())


class _Search:
    """The rows found so far for one constraint (they do not depend on the target) and the oracle."""

    def __init__(self, oracle: _Oracle, hinted: Sequence[Fraction], ctx: z3.Context) -> None:
        self.oracle, self.ctx, self.cs = oracle, ctx, oracle.cs
        self.rows: dict[tuple[tuple[int, ...], ...], Line] = {}
        self._top: Line | None = None
        for lam in hinted:   # both ties: at the optimal λ one row of each side of the target
            self.respond(lam, _ONE)
            self.respond(lam, -_ONE)

    def respond(self, lam: Fraction, tie: Fraction = _ONE) -> Line:
        """Add and return the best response at λ (ties towards higher J for ``tie`` = 1, lower for -1)."""
        near = max(self.rows.values(), key=lambda row: lifted(row, lam, _ZERO), default=None)
        row = self.oracle.best((lam, _ONE), (tie, _ZERO), near)
        return self.rows.setdefault(row.tables, row)

    def top(self) -> Fraction:
        """The largest σ·W_c of all (its policy, ties towards higher J, stays a row)."""
        if self._top is None:
            self._top = self.respond(_ZERO)
        return self._top.q

    def worst(self, target: Fraction, hinted: bool = True) -> Worst[Line]:
        """The exact worst value at a target (the hints are rows already)."""
        for lam in self.oracle.float_bracket(target):
            self.respond(lam)
        if all(row.j < target for row in self.rows.values()):   # the master needs a row with J ≥ target
            row = self.oracle.best((_ONE, _ZERO), (_ZERO, _ONE))
            self.rows.setdefault(row.tables, row)
        for _ in range(MAX_ROUNDS):
            lam = _master(list(self.rows.values()), target, self.oracle.budget, self.ctx)
            v = max(lifted(row, lam, target) for row in self.rows.values())
            response = self.respond(lam)
            if lifted(response, lam, target) <= v:
                return self._attained(lam, v, target, response)
        raise GaveUp(f"no multiplier found within {MAX_ROUNDS} rounds")

    def _attained(self, lam: Fraction, v: Fraction, target: Fraction, response: Line) -> Worst[Line]:
        active = [row for row in self.rows.values() if lifted(row, lam, target) == v]
        a, b = max(active, key=lambda r: r.j), min(active, key=lambda r: r.j)
        if a.j < target or (b.j > target and lam > 0):
            raise GaveUp("the master LP's optimum is not optimal (no attaining pair of rows)")
        # a alone when λ = 0, b alone when J_b = target, else their mixture at J = target
        parts = [(_ONE, a if lam == 0 else b)] if lam == 0 or b.j >= target else mixed(a, b, target)
        if sum((q * r.q for q, r in parts), _ZERO) != v:
            raise GaveUp("the attaining mixture misses the master LP's optimum")
        return Worst(v, lam, parts, response)

    def document(self, line: Line) -> dict[str, Any]:
        return line.document(self.oracle.mdp)

    def per_state(self, line: Line) -> tuple[Values, Values] | None:
        return line.per_state()


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
        return AlignmentResult.unknown("smt", "credal models are not supported by the smt engine")
    if objective.horizon is not None:
        mdp = restrict(mdp, objective.horizon)   # what the horizon can see; changes no value
    try:
        budget.remaining_ms()
        ep = exact_episode(mdp, objective)
    except GaveUp as exc:
        return AlignmentResult.unknown("smt", f"{exc} (computing J*)")
    ctx = z3.Context()
    searches = (_Search(_Oracle(mdp, ep, constraint_space(mdp, objective, c), budget),
                        hinted_lambdas(constraint_hints(hints, i)), ctx) for i, c in enumerate(constraints))
    return decide("smt", mdp, ep, epsilon, constraints, searches, margin)
