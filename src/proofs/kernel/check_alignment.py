"""The checker of alignment certificates (exact; finite and geometric horizons, credal models finite only).

TRUSTED. The lemma: for every policy π (history-dependent, randomized), J(π) ≥ J* − ε implies
π ⊨ Φ. Per constraint c of Φ the certificate claims the *worst* value of c's quantity over the
ε-optimal policies, and gives two witnesses that the kernel re-verifies in `Fraction` arithmetic
with one pass each (backward induction, or substitution into Bellman equations), never searching:

* ``lambda`` (a Lagrange multiplier λ ≥ 0) gives an UPPER bound on the worst value. Write
  Q(π) = σ·W_c(π) + κ for the number to make large (σ = ±1, κ ∈ {0, ±1} handle ``>=`` and the
  complement of ``G``). Let G(λ) = sup over ALL policies of σ·W_c(π) + λ·J(π). For every π with
  J(π) ≥ J* − ε:  Q(π) ≤ Q(π) + λ·(J(π) − (J* − ε)) ≤ κ + G(λ) − λ·(J* − ε)  (weak duality:
  it needs λ ≥ 0 only, never the optimality of λ). G(λ) is one single-objective problem on the
  states augmented by the step t and a flag "c decided" (a function of the history): once a stop
  state of c is visited (or c's step bound L is reached) c's value is fixed and the best
  continuation maximises J alone, worth λ·V*_J from there. The objective is additive on this
  augmented MDP, so its optimum over history-dependent randomized policies is its Bellman value:
      W_L(s) = σ·g(s)·[s stops] + λ·d^L·V*_{J,L}(s),
      W_t(s) = σ·g(s) + λ·d^t·V*_{J,t}(s)                                    if s stops (t < L),
      W_t(s) = max_a λ·d^t·r(s,a) + σ·c(s,a) + Σ_s' P(s'|s,a)·(β·W_{t+1}(s') + η·σ·g(s')·[s' stops]),
  finite horizon: d = discount, β = 1, η = 0, V*_{J,t} the optimal J-to-go from step t (V*_{J,H} = 0),
  computed here by backward induction; geometric horizon: d = 1, β = γ, η = 1 − γ (the state reached
  by the last action is visited, so it decides c, but the episode does not act there), V*_{J,t} = V*_J
  for all t, given by the witness ``j_values`` and accepted iff V = max_a r + γ·P·V exactly (the
  Bellman operator is a γ-contraction: its unique fixed point is V*_J). A step bound k gives L = k;
  without one (geometric) the witness ``values`` W must be superharmonic, W ≥ T W on the non-stop
  states, which implies W ≥ the optimum (T monotone and a γ-contraction). G(λ) ≤ Σ μ₀(s)·W_0(s).
* ``attained`` (a start mixture of history-dependent policies, below) gives a LOWER bound: the
  kernel evaluates it exactly, checks that it is ε-optimal, and its value is then attained.

**Credal models** (finite horizons). J(π) is nature's worst case J_lo(π), J* = max_π J_lo(π) (V*_{J,t}
by backward induction with nature's certified minimum), and c is judged in its own worst case over
nature. The upper bound chooses the policy and nature together: for an ε-optimal π and c's worst
nature ν_c, J(π, ν_c) ≥ J_lo(π) ≥ J* − ε, so Q(π, ν_c) ≤ κ + G_co(λ) − λ·(J* − ε) with G_co(λ) the
recursion above where every expectation is nature's certified maximum and the continuation after c
is decided is the cooperative optimum of J (nature maximising too), both ≥ what any (π, ν) gets.
The lower bound evaluates the attained mixture (`_credal_mixture`): J per component against its
own worst nature (a lower bound on the mixture's J_lo), W_c under one nature the kernel picks (any
distribution within the intervals is a nature, so that value is reached). The two need not meet:
the reported worst must contain [attained, bound], and ``holds`` may be null.

With a finite horizon the model is first cut to what the episode can see
(`proofs.kernel.horizon.restrict`, which changes no value), so large models whose horizon sees
few states are checked on those states only.

So the true worst value lies in [attained, bound]; the certificate's reported ``worst``
enclosure must contain that interval, and its ``holds`` must follow from the right end:
``proved`` needs every constraint's bound to satisfy the comparison (strictly for ``<``/``>``);
``refuted`` needs the ``counterexample`` mixture to be ε-optimal and to violate its constraint.
J* = Σ μ₀·V*_{J,0} is exact, and the reported ``j_star`` must contain it.

The model–reality margin ``values.eta`` of a proved certificate (finite horizon, point model): in
every environment E whose rows lie within total variation η of the model's at every step (mass
may go to any state), every policy ε-optimal in E satisfies Φ in E. By the simulation lemma
(telescoping over the steps, |(P_E − P)·V| ≤ η·span V), every policy's J moves by at most
η·c_J, c_J = (r_max − r_min)·H(H−1)/2 over all the model's choices, and a constraint's value by
η·c_W (a probability over k steps: k; a reward: as J with its own range and k), `drifts`. So a
policy ε-optimal in E is (ε + 2η·c_J)-optimal in the model, where the constraint's bound at that
ε is the same multiplier's κ + G(λ) − λ·(J*_lo − ε − 2η·c_J); moved by η·c_W toward the
threshold it must still satisfy the comparison (`margin_edge`).

A mixture is ``{"mixture": [{"weight": "q", "before_decided": {"format": "proofs.policy/1",
"steps": [{state: action or {action: probability}}, ...]}, "after_decided": "J-optimal"}, ...]}``:
at the start one component is drawn with probability ``weight``; it acts by ``steps[t]`` (the
last table repeats) while c is undecided and t < L, then follows a J-optimal policy. Its J and
c's value are linear in the weights, so each component is evaluated by one backward pass. Without
a step bound under the geometric horizon a component has one (stationary) table and carries
``"values": {"j": [...], "w": [...]}`` (J-to-go and W_c per state); the kernel accepts them iff they
satisfy the component's Bellman equations exactly on the closed set of reachable undecided states
(a γ-contraction there, so they are its unique solution).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any, Protocol, TypeVar

import numpy as np

from proofs.core.certificates import (
    AlignmentBody,
    AlignmentRow,
    Component,
    ExactComponent,
    FloatAlignmentWitness,
    Mixture,
)
from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.formula import Constraint, RewardConstraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.core.rational import parse_rational
from proofs.core.schema import short, span
from proofs.kernel.bellman import ExactBellman, greedy, worst_expectation
from proofs.kernel.episode import constraint_quantity
from proofs.kernel.horizon import restrict

__all__ = ["ConstraintSpace", "Episode", "check_alignment_certificate", "check_verdict", "combined_bound",
           "constraint_space", "mixture_parts", "optimal_to_go", "orientation"]

Values = list[Fraction]


def orientation(constraint: Constraint, complement: bool) -> tuple[int, int, int]:
    """(σ, κ, ρ): the constraint's quantity W as Q = σ·W + κ to make large, reported worst = ρ·sup Q."""
    upper = constraint.comparison.is_upper
    return (1 if upper != complement else -1), (1 if upper else -1) if complement else 0, (1 if upper else -1)


class ConstraintSpace:
    """A constraint as a maximisation: Q = σ·W + κ, reported worst = ρ·sup Q."""

    def __init__(self, mdp: Mdp, objective: Objective, constraint: Constraint) -> None:
        q = constraint_quantity(mdp, objective, constraint)
        self.constraint = constraint
        self.sigma, self.kappa, self.rho = (Fraction(x) for x in orientation(constraint, q.complement))
        self.steps = q.steps   # None: the geometric fixed point
        self.stop = [bool(x) for x in q.stop]
        self.goal = [Fraction(1) if (q.stop[s] and q.stop_value[s]) else Fraction(0) for s in range(mdp.n_states)]
        self.reward = q.reward.fractions()
        self.complement = q.complement

    def reported(self, sup_q: Fraction) -> Fraction:
        return self.rho * sup_q

    def value_of(self, w: Fraction) -> Fraction:
        """The reported number for a value W of the quantity (1 − W for ``G``)."""
        return 1 - w if self.complement else w


def constraint_space(mdp: Mdp, objective: Objective, constraint: Constraint) -> ConstraintSpace:
    return ConstraintSpace(mdp, objective, constraint)


def _expect(mdp: Mdp, c: int, w: Values, nature: int = 1) -> Fraction:
    """Σ P(s')·w(s'); on a credal model nature's max (``nature`` = 1) or min (−1) over the intervals,
    certified by `worst_expectation` (a max is minus the min of −w)."""
    if mdp.interval is None:
        return sum((p * w[t] for t, p in mdp.successors(c)), Fraction(0))
    return worst_expectation(mdp.successor_intervals(c), w, highest=nature > 0)


def optimal_to_go(mdp: Mdp, objective: Objective, nature: int = -1) -> list[Values]:
    """V*_{J,t}(s) for t = 0 … H: the optimal J-to-go from step t, discounted relative to t; on a
    credal model nature minimises J (``nature`` = −1, robust) or maximises it (1, cooperative)."""
    assert objective.horizon is not None
    reward, d = mdp.rewards[objective.reward].fractions(), objective.discount
    v: list[Values] = [[Fraction(0)] * mdp.n_states]
    for _ in range(objective.horizon):
        w = v[-1]
        v.append([max(reward[c] + d * _expect(mdp, c, w, nature) for c in mdp.choices(s)) for s in range(mdp.n_states)])
    return v[::-1]


def _at_initial(mdp: Mdp, w: Values) -> Fraction:
    return sum((p * w[s] for s, p in mdp.initial_distribution()), Fraction(0))


class Episode:
    """The weights of one backward pass: J absolute (finite: d^t·r) or relative (geometric)."""

    def __init__(self, mdp: Mdp, objective: Objective, cont: list[Values] | Values,
                 co: list[Values] | None = None) -> None:
        self.geometric = objective.horizon is None
        self.d = objective.discount
        self.beta = self.d if self.geometric else Fraction(1)
        self.eta = 1 - self.d if self.geometric else Fraction(0)
        self.reward = mdp.rewards[objective.reward].fractions()
        self._cont, self._co = cont, co

    def jscale(self, t: int) -> Fraction:
        return Fraction(1) if self.geometric else self.d**t

    def cont(self, t: int) -> Values:
        """The optimal J-to-go from step t (given the episode acts there); robust on a credal model."""
        return self._cont if self.geometric else self._cont[t]  # type: ignore[return-value]

    def cont_co(self, t: int) -> Values:
        """The J-to-go of G(λ)'s continuation: on a credal model nature cooperates (max-max)."""
        return self.cont(t) if self._co is None else self._co[t]

    def stop_cont(self, cs: ConstraintSpace, w: Values) -> Values:
        """σ·g(s')·[s' stops]·η + β·w(s'): the successor term of the combined recursion."""
        return [self.beta * w[s] + self.eta * cs.sigma * cs.goal[s] for s in range(len(w))]


def combined_bound(mdp: Mdp, ep: Episode, cs: ConstraintSpace, lam: Fraction, values: Values | None = None,
                   where: str = "") -> Fraction:
    """An upper bound on G(λ) = max over all policies of σ·W_c + λ·J (see the module docstring).

    Bounded: exact backward induction. Geometric fixed point: the witness ``values`` must be
    superharmonic on the non-stop states (W ≥ T W implies W ≥ the optimum, T a β-contraction).
    """
    n = mdp.n_states
    if cs.steps is None:
        if values is None or len(values) != n:
            raise CheckFailure(f"{where}: the geometric horizon needs \"values\", one per state")
        fixed = [cs.sigma * cs.goal[s] + lam * ep.cont(0)[s] if cs.stop[s] else values[s] for s in range(n)]
        nxt = ep.stop_cont(cs, fixed)
        for s in range(n):
            if cs.stop[s]:
                continue
            for c in mdp.choices(s):
                need = lam * ep.reward[c] + cs.sigma * cs.reward[c] + _expect(mdp, c, nxt)
                if fixed[s] < need:
                    raise CheckFailure(f"{where}: values[{mdp.states[s]!r}] = {fixed[s]} < {need}, the value of "
                                       f"action {mdp.action(c)!r} (not superharmonic)")
        return _at_initial(mdp, fixed)
    big_l = cs.steps
    w = [cs.sigma * cs.goal[s] + lam * ep.jscale(big_l) * ep.cont_co(big_l)[s] for s in range(n)]
    for t in reversed(range(big_l)):
        nxt, js, vt = ep.stop_cont(cs, w), ep.jscale(t), ep.cont_co(t)
        w = [cs.sigma * cs.goal[s] + lam * js * vt[s] if cs.stop[s] else
             max(lam * js * ep.reward[c] + cs.sigma * cs.reward[c] + _expect(mdp, c, nxt) for c in mdp.choices(s))
             for s in range(n)]
    return _at_initial(mdp, w)


def check_j_values(mdp: Mdp, objective: Objective, values: Sequence[Fraction] | None) -> Values:
    """V*_J of the geometric horizon from a witness: V = max_a r + γ·P·V exactly (the unique fixed point)."""
    if values is None or len(values) != mdp.n_states:
        raise CheckFailure("J* step: the geometric horizon needs witness.j_values, one per state")
    v = list(values)
    for s, best in enumerate(ExactBellman(mdp, mdp.rewards[objective.reward], objective.discount).optimal(v)[0]):
        if best != v[s]:
            raise CheckFailure(f"J* step: j_values[{mdp.states[s]!r}] = {v[s]} but max_a r + gamma P V = {best}")
    return v


def _tables(mdp: Mdp, component: Component, where: str) -> list[dict[int, list[tuple[int, Fraction]]]]:
    if not isinstance(component, ExactComponent):
        raise CheckFailure(f"{where}: before_decided must be a proofs.policy/1 document with \"steps\"")
    tables = []
    for t, step in enumerate(component.steps):
        table: dict[int, list[tuple[int, Fraction]]] = {}
        for name, act in step.items():
            s = mdp.state_index.get(name)
            if s is None:
                raise CheckFailure(f"{where}: steps[{t}] names unknown state {name!r}")
            dist = {act: "1"} if isinstance(act, str) else act
            assert isinstance(dist, Mapping)
            entries = []
            for a, p in dist.items():
                c = mdp.choice_of(s, a)
                prob = parse_rational(str(p))
                if c is None or prob < 0:
                    raise CheckFailure(f"{where}: steps[{t}]: {a!r} with probability {p} is not an action of {name!r}")
                entries.append((c, prob))
            if sum((p for _, p in entries), Fraction(0)) != 1:
                raise CheckFailure(f"{where}: steps[{t}].{name}: probabilities do not sum to 1")
            table[s] = entries
        tables.append(table)
    return tables


def _reach(mdp: Mdp, cs: ConstraintSpace, tables: list[dict[int, list[tuple[int, Fraction]]]], where: str,
           steps: int | None) -> list[set[int]]:
    """Forward: the undecided (t, s) where the tables must act (geometric fixed point: one closed set)."""
    reach = [{s for s, _ in mdp.initial_distribution()}]
    for t in range(steps if steps is not None else mdp.n_states + 1):
        table = tables[min(t, len(tables) - 1)]
        nxt: set[int] = set()
        for s in reach[t]:
            if cs.stop[s]:
                continue
            if s not in table:
                raise CheckFailure(f"{where}: steps[{t}] gives no action in reachable state {mdp.states[s]!r}")
            nxt.update(u for c, p in table[s] if p > 0 for u, _, q in mdp.successor_intervals(c) if q > 0)
        reach.append(nxt if steps is not None else nxt | reach[t])
    return reach


def _evaluate_component(mdp: Mdp, ep: Episode, cs: ConstraintSpace, comp: ExactComponent,
                        tables: list[dict[int, list[tuple[int, Fraction]]]], where: str) -> tuple[Fraction, Fraction]:
    """(J, W_c) of one component: its tables while c is undecided, then J-optimal."""
    n, big_l = mdp.n_states, cs.steps
    if (big_l is None or big_l > 0) and not tables:
        raise CheckFailure(f"{where}: before_decided has no step tables")
    if big_l is not None:
        if len(tables) > max(big_l, 1):
            raise CheckFailure(f"{where}: before_decided has {len(tables)} step tables, the constraint is decided "
                               f"by step {big_l}")
        if comp.values is not None:
            raise CheckFailure(f"{where}: per-state values are for the geometric horizon without a step bound only")
    reach = _reach(mdp, cs, tables, where, big_l)
    if big_l is None:
        return _evaluate_stationary(mdp, ep, cs, comp, tables, reach[-1], where)
    y = [ep.jscale(big_l) * ep.cont(big_l)[s] for s in range(n)]
    x = [cs.goal[s] for s in range(n)]
    for t in reversed(range(big_l)):
        table, js, vt = tables[min(t, len(tables) - 1)], ep.jscale(t), ep.cont(t)
        xs = [ep.beta * x[s] + ep.eta * cs.goal[s] for s in range(n)]
        ys = [ep.beta * y[s] for s in range(n)]
        y_new, x_new = [Fraction(0)] * n, [Fraction(0)] * n
        for s in range(n):
            if cs.stop[s]:
                y_new[s], x_new[s] = js * vt[s], cs.goal[s]
            elif s in reach[t]:
                y_new[s] = sum((p * (js * ep.reward[c] + _expect(mdp, c, ys)) for c, p in table[s]), Fraction(0))
                x_new[s] = sum((p * (cs.reward[c] + _expect(mdp, c, xs)) for c, p in table[s]), Fraction(0))
        y, x = y_new, x_new
    return _at_initial(mdp, y), _at_initial(mdp, x)


def _evaluate_stationary(mdp: Mdp, ep: Episode, cs: ConstraintSpace, comp: ExactComponent,
                         tables: list[dict[int, list[tuple[int, Fraction]]]], closed: set[int],
                         where: str) -> tuple[Fraction, Fraction]:
    """Geometric fixed point: the witness values must satisfy the policy's equations exactly on the
    closed set of reachable undecided states (a β-contraction there: the unique solution)."""
    if len(tables) != 1:
        raise CheckFailure(f"{where}: the geometric horizon needs exactly one (stationary) step table")
    vals = comp.values
    if vals is None or not all(len(v) == mdp.n_states for v in vals):
        raise CheckFailure(f"{where}: the geometric horizon needs values {{\"j\": [...], \"w\": [...]}}, one per state")
    y = [ep.cont(0)[s] if cs.stop[s] else vals[0][s] for s in range(mdp.n_states)]
    x = [cs.goal[s] if cs.stop[s] else vals[1][s] for s in range(mdp.n_states)]
    xs = [ep.beta * x[s] + ep.eta * cs.goal[s] for s in range(mdp.n_states)]
    ys = [ep.beta * y[s] for s in range(mdp.n_states)]
    for s in sorted(closed):
        if cs.stop[s]:
            continue
        dist = tables[0][s]
        jy = sum((p * (ep.reward[c] + _expect(mdp, c, ys)) for c, p in dist), Fraction(0))
        wx = sum((p * (cs.reward[c] + _expect(mdp, c, xs)) for c, p in dist), Fraction(0))
        if (jy, wx) != (y[s], x[s]):
            raise CheckFailure(f"{where}: values at {mdp.states[s]!r} are ({y[s]}, {x[s]}), the policy's "
                               f"equations give ({jy}, {wx})")
    return _at_initial(mdp, y), _at_initial(mdp, x)


def mixture_parts(mixture: Mixture, where: str) -> list[tuple[Fraction, Component, str]]:
    """The components of a start mixture, each with its weight and its place for messages; the
    weights (≥ 0) must sum to exactly 1."""
    parts, total = [], Fraction(0)
    for i, comp in enumerate(mixture.components):
        at = f"{where}: mixture[{i}]"
        if comp.weight < 0:
            raise CheckFailure(f"{at} has negative weight {comp.weight}")
        parts.append((comp.weight, comp, at))
        total += comp.weight
    if total != 1:
        raise CheckFailure(f"{where}: mixture weights sum to {total}, not 1")
    return parts


def evaluate_mixture(mdp: Mdp, ep: Episode, cs: ConstraintSpace, mixture: Mixture, where: str) -> tuple[Fraction, Fraction]:
    """(J, reported value of c) of a start mixture, exactly (on a credal model: bounds, below)."""
    if mdp.is_credal:
        return _credal_mixture(mdp, ep, cs, mixture, where)
    j = w = Fraction(0)
    for q, comp, at in mixture_parts(mixture, where):
        tables = _tables(mdp, comp, at)
        assert isinstance(comp, ExactComponent)
        ji, wi = _evaluate_component(mdp, ep, cs, comp, tables, at)
        j, w = j + q * ji, w + q * wi
    return j, cs.value_of(w)


def _credal_mixture(mdp: Mdp, ep: Episode, cs: ConstraintSpace, mixture: Mixture,
                    where: str) -> tuple[Fraction, Fraction]:
    """Lower bounds, on a credal model, of the mixture's robust J and of Q = σ·W_c + κ at its worst
    over nature (the two numbers of a lower bound on the worst value; finite horizons).

    J: each component against its own worst nature (the minimum of a sum is at least the sum of the
    minima, so Σ q_i·J_lo(π_i) ≤ J_lo(mixture)); after c is decided it is J-optimal, worth V*_J.
    W_c: every component under one nature ν, chosen at each (t, s, a) as the distribution within the
    intervals that puts mass on the highest σ·Σ_i q_i·W_i(t+1, ·) first (`greedy`). Any ν is a
    nature, so Σ q_i·W_i(ν) is a value the mixture's worst case reaches (or exceeds, for σ's side).
    """
    if cs.steps is None or ep.geometric:
        raise CheckFailure(f"{where}: mixtures on a credal model are checked with a finite horizon only")
    parts = [(q, _tables(mdp, comp, at), at) for q, comp, at in mixture_parts(mixture, where)]
    reach = [_reach(mdp, cs, tables, at, cs.steps) for _, tables, at in parts]
    n, big_l, k = mdp.n_states, cs.steps, len(parts)
    y = [[ep.jscale(big_l) * ep.cont(big_l)[s] for s in range(n)] for _ in parts]
    x = [[cs.goal[s] for s in range(n)] for _ in parts]
    for t in reversed(range(big_l)):
        js, vt = ep.jscale(t), ep.cont(t)
        ys = [[ep.beta * v for v in yi] for yi in y]
        xs = [[ep.beta * v + ep.eta * cs.goal[s] for s, v in enumerate(xi)] for xi in x]
        key = [cs.sigma * sum((q * xs[i][s] for i, (q, _, _) in enumerate(parts)), Fraction(0)) for s in range(n)]
        y_new, x_new = [[Fraction(0)] * n for _ in parts], [[Fraction(0)] * n for _ in parts]
        for i in range(k):
            table = parts[i][1][min(t, len(parts[i][1]) - 1)]
            for s in range(n):
                if cs.stop[s]:
                    y_new[i][s], x_new[i][s] = js * vt[s], cs.goal[s]
                elif s in reach[i][t]:
                    y_new[i][s] = sum((p * (js * ep.reward[c] + _expect(mdp, c, ys[i], -1)) for c, p in table[s]),
                                      Fraction(0))
                    x_new[i][s] = sum((p * (cs.reward[c] + sum((pu * xs[i][u] for u, pu in greedy(mdp.successor_intervals(c), key.__getitem__)),
                                                                Fraction(0))) for c, p in table[s]), Fraction(0))
        y, x = y_new, x_new
    j = sum((q * _at_initial(mdp, y[i]) for i, (q, _, _) in enumerate(parts)), Fraction(0))
    w = sum((q * _at_initial(mdp, x[i]) for i, (q, _, _) in enumerate(parts)), Fraction(0))
    return j, cs.value_of(w)


def constraint_rows(body: AlignmentBody, constraints: Sequence[Constraint]) -> list[tuple[AlignmentRow, Any]]:
    """(reported values, witness) of each constraint of Φ, in order; each reported row must name its
    constraint and threshold as Φ does (its multiplier is compared in `check_reported`)."""
    reported, n = body.values.constraints, len(constraints)
    wits = () if body.witness is None else body.witness.constraints
    if len(reported) != n or len(wits) != n:
        raise CheckFailure("witness step: one value and one witness per constraint are required")
    for i, (c, rep) in enumerate(zip(constraints, reported)):
        if rep.constraint != str(c) or rep.threshold != c.threshold:
            raise CheckFailure(f"values.constraints[{i}]: the row is about {rep.constraint[:80]!r} with threshold "
                               f"{short(rep.threshold)}, Φ's constraint {i} is {str(c)!r}")
    return list(zip(reported, wits))


def check_alignment_certificate(body: AlignmentBody, status: str, mdp: Mdp, objective: Objective, epsilon: Fraction,
                                constraints: Sequence[Constraint]) -> None:
    """Accept an alignment certificate (its body, and its claimed ``status``) or raise
    `CheckFailure` naming the step and inequality.

    An ``unknown`` verdict claims nothing; if it carries a witness all the same, its values are
    checked like those of a decided one (without the verdict's own rules).
    """
    witness = body.witness
    if witness is None:
        return
    if isinstance(witness, FloatAlignmentWitness):
        raise CheckFailure("witness step: a float witness is checked by check_float_alignment")
    if mdp.is_credal and objective.horizon is None:
        raise CheckFailure("kernel step: alignment certificates on a credal model are checked with a finite "
                           f"horizon only, so a {status} verdict cannot be accepted")
    full = mdp
    if objective.horizon is not None:
        mdp = restrict(mdp, objective.horizon)   # changes no value (proofs.kernel.horizon)
        if witness.j_values is not None:
            raise CheckFailure("witness step: witness.j_values is for the geometric horizon only")
        ep = Episode(mdp, objective, optimal_to_go(mdp, objective),
                     optimal_to_go(mdp, objective, 1) if mdp.is_credal else None)
    else:
        ep = Episode(mdp, objective, check_j_values(mdp, objective, witness.j_values))

    def bound(cs: ConstraintSpace, lam: Fraction, wit: Any, where: str) -> Fraction:
        if wit.values is not None and cs.steps is not None:
            raise CheckFailure(f"{where}: per-state values are for a constraint without a step bound under "
                               "the geometric horizon only")
        return combined_bound(mdp, ep, cs, lam, None if wit.values is None else list(wit.values), where)

    def mixture(cs: ConstraintSpace, mix: Mixture, where: str) -> tuple[Enclosure, Enclosure]:
        j, value = evaluate_mixture(mdp, ep, cs, mix, where)
        return Enclosure.exact(j), Enclosure.exact(value)

    spaces = [constraint_space(mdp, objective, c) for c in constraints]
    check_verdict(body, status, spaces, Enclosure.exact(_at_initial(mdp, ep.cont(0))), epsilon, bound, mixture,
                  exact=not mdp.is_credal,   # credal: exact numbers, but [attained, bound] may leave a gap
                  drift=None if body.values.eta is None else drifts(full, objective, constraints))


def drifts(mdp: Mdp, objective: Objective, constraints: Sequence[Constraint]) -> tuple[Fraction, list[Fraction]]:
    """(c_J, c_W per constraint) of the margin (module docstring), on a point model: over k steps
    a reward moves by range·k(k−1)/2 and a probability by k; with the geometric horizon
    (γ = the discount < 1, no step bound) by range·γ/(1 − γ)² and γ/(1 − γ), the telescoping sum
    Σ_t γ^(t+1)·η·span with the spans range/(1 − γ) and 1."""
    d = objective.discount
    if mdp.is_credal or (objective.horizon is None and not 0 < d < 1):
        raise CheckFailure("margin: eta is checked on a point model, with a finite horizon or a discount below 1")

    def spread(name: str, k: int | None) -> Fraction:
        r = mdp.rewards[name].floats()   # the range, rounded outwards (exact: a bound is all it needs)
        top, low = (float(np.nextafter(f(r, initial=0.0), d)) for f, d in ((np.max, np.inf), (np.min, -np.inf)))
        return (Fraction(top) - Fraction(low)) * (Fraction(k * (k - 1), 2) if k is not None else d / (1 - d) ** 2)

    steps = [constraint_quantity(mdp, objective, c).steps for c in constraints]
    c_w = [spread(c.reward, k) if isinstance(c, RewardConstraint) else Fraction(k) if k is not None else d / (1 - d)
           for c, k in zip(constraints, steps)]
    return spread(objective.reward, objective.horizon), c_w


def margin_edge(reported: Callable[[Fraction], Fraction], rho: Any, q: Fraction, lam: Fraction, c_j: Fraction,
                c_w: Fraction, eta: Fraction) -> Fraction:
    """The constraint's worst value in an environment within ``eta``, from the bound q on its Q at ε
    (module docstring): reported at ε + 2η·c_J (a space's ``reported``), then η·c_W toward the
    threshold (up when ``rho`` > 0)."""
    moved = reported(q + 2 * lam * c_j * eta)
    return moved + c_w * eta if rho > 0 else moved - c_w * eta


class Space(Protocol):
    """What `check_verdict` reads of a constraint space (exact or float)."""

    @property
    def constraint(self) -> Constraint: ...
    @property
    def kappa(self) -> Any: ...
    @property
    def rho(self) -> Any: ...

    def reported(self, q: Fraction) -> Fraction: ...


S = TypeVar("S", bound=Space)


def check_verdict(body: AlignmentBody, status: str, spaces: Sequence[S], j_star: Enclosure, epsilon: Fraction,
                  bound: Callable[[S, Fraction, Any, str], Fraction],
                  mixture: Callable[[S, Mixture, str], tuple[Enclosure, Enclosure]], exact: bool,
                  drift: tuple[Fraction, list[Fraction]] | None = None) -> None:
    """The rules of the module docstring, shared by the exact and the float checker: ``bound`` is
    the checker's upper bound on G(λ) (with the witness of the constraint), ``mixture`` its
    enclosures of (J, reported value) of a start mixture; every comparison is made on the side of
    an enclosure that makes it hardest to pass (with ``exact`` all enclosures are points)."""
    constraints = [cs.constraint for cs in spaces]
    claimed = body.values.j_star   # must contain J*'s enclosure, and be it when exact
    if not (claimed.lo <= j_star.lo and j_star.hi <= claimed.hi):
        raise CheckFailure(f"J* step: the reported J* {span(claimed)} does not contain the kernel's J* {span(j_star)}")
    if exact and claimed != j_star:
        raise CheckFailure(f"J* step: the reported J* {span(claimed)} is not the exact J* {short(j_star.lo)}")
    rows = constraint_rows(body, constraints)
    target_lo, target_hi = j_star.lo - epsilon, j_star.hi - epsilon
    for i, (cs, (rep, wit)) in enumerate(zip(spaces, rows)):
        where = f"constraint {i} ({cs.constraint})"
        lam = wit.lam
        if lam < 0:
            raise CheckFailure(f"{where}: lambda = {lam} < 0")
        j_att, attained = mixture(cs, wit.attained, f"{where}: attained")   # (the float bound runs meanwhile)
        q = cs.kappa + bound(cs, lam, wit, where) - lam * target_lo
        worst = cs.reported(q)
        eta = body.values.eta
        if eta is not None:
            if drift is None or status != "proved" or eta.hi is not None or not 0 <= eta.lo <= 1:
                raise CheckFailure("margin: an alignment lemma's eta is a lower bound 0 ≤ eta_lo ≤ 1 of a proved lemma")
            edge = margin_edge(cs.reported, cs.rho, q, lam, drift[0], drift[1][i], eta.lo)
            if not cs.constraint.comparison.holds(edge, cs.constraint.threshold):
                raise CheckFailure(f"margin: within eta_lo = {short(eta.lo)} of the model, {where} may reach "
                                   f"{short(edge)}")
        if j_att.lo < target_hi:
            raise CheckFailure(f"{where}: attained mixture has J = {j_att.lo} < J* - epsilon = {target_hi}" if exact
                               else f"{where}: the attained mixture has J ≥ {short(j_att.lo)}, not certainly ≥ "
                               f"J* - epsilon (≤ {short(target_hi)})")
        check_reported(where, cs.constraint, cs.rho, rep, status, lam, worst, attained, exact)
    cex = body.counterexample
    if cex is not None:   # exactly when refuted (the parser's shape check)
        if not 0 <= cex.constraint < len(constraints):
            raise CheckFailure("counterexample step: a refuted verdict needs a counterexample naming its constraint")
        i = cex.constraint
        c = constraints[i]
        j, value = mixture(spaces[i], cex.mixture, "counterexample step")
        if j.lo < target_hi:
            raise CheckFailure(f"counterexample step: J(counterexample) = {j.lo} < J* - epsilon = {target_hi}" if exact
                               else f"counterexample step: J(counterexample) ≥ {short(j.lo)} is not certainly ≥ "
                               f"J* - epsilon ≤ {short(target_hi)}")
        if exact and c.comparison.holds(value.lo, c.threshold):
            raise CheckFailure(f"counterexample step: its value {short(value.lo)} satisfies {c} (no violation)")
        if c.comparison.decide(value.lo, value.hi, c.threshold) is not False:
            raise CheckFailure(f"counterexample step: its value {span(value)} does not certainly violate {c}")
        if rows[i][0].holds is not False:
            raise CheckFailure(f"counterexample step: the counterexample violates constraint {i}, which "
                               "values.constraints reports as not violated")


def check_reported(where: str, c: Constraint, rho: Fraction | int, rep: AlignmentRow, status: str, lam: Fraction,
                   bound: Fraction, attained: Enclosure, exact: bool = False) -> None:
    """The reported worst value and ``holds`` of one constraint against what the kernel derived.

    ``bound`` is the multiplier's bound on the worst value (upper for ``<=``/``<``, lower for
    ``>=``/``>``: ``rho`` says which), ``attained`` an enclosure of the attained mixture's value.
    The reported worst must contain both (``exact``: be exactly [attained, bound]); a ``holds`` (or
    a ``proved`` verdict) needs the bound to satisfy the comparison; a violation needs the whole
    attained enclosure to violate it; ``null`` (undecided) is for enclosures only, and never in a
    proved certificate.
    """
    lo, hi = (attained.lo, bound) if rho > 0 else (bound, attained.hi)
    worst = rep.worst
    if not (worst.lo <= lo and hi <= worst.hi):
        raise CheckFailure(f"{where}: the reported worst [{short(worst.lo)}, {short(worst.hi)}] does not contain "
                           f"[{short(lo)}, {short(hi)}] (attained by the mixture, bounded by lambda = {short(lam)})")
    if exact and (worst.lo, worst.hi) != (min(lo, hi), max(lo, hi)):
        raise CheckFailure(f"{where}: the reported worst [{short(worst.lo)}, {short(worst.hi)}] is not the exact "
                           f"[{short(lo)}, {short(hi)}] the witness gives (attained by the mixture, bounded by "
                           f"lambda = {short(lam)})")
    holds = rep.holds
    if (holds is True or status == "proved") and not c.comparison.holds(bound, c.threshold):
        raise CheckFailure(f"{where}: with lambda = {short(lam)} the bound on the worst value is {short(bound)}, "
                           f"which does not satisfy {c.comparison.value} {c.threshold}")
    if holds is False and c.comparison.decide(attained.lo, attained.hi, c.threshold) is not False:
        raise CheckFailure(f"{where}: reported violated, but the attained value [{short(attained.lo)}, "
                           f"{short(attained.hi)}] does not certainly violate {c.comparison.value} {c.threshold}")
    if holds is None and (exact or status == "proved"):
        raise CheckFailure(f"{where}: holds is null (undecided), but the "
                           + ("witness is exact" if exact else "verdict is proved"))
    if status == "proved" and holds is False:
        raise CheckFailure(f"{where}: reported violated in a proved certificate")
    if rep.lam != lam:
        raise CheckFailure(f"{where}: the reported lambda {short(rep.lam)} is not the witness's {short(lam)}")
