"""Exact evaluation of `Quantity`s in `Fraction` arithmetic, for small models.

UNTRUSTED as a search procedure, but exact: backward induction for bounded quantities, exact
linear solves and strategy iteration for the geometric fixed point. Credal (interval) models
are resolved by nature at every step: `nature` says whether nature minimises or maximises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from proofs.core.model import Mdp
from proofs.core.policy import Policy, PolicyLayer
from proofs.kernel.episode import Quantity
from proofs.semantics.linear import solve_sparse

__all__ = ["ExactModel", "Values", "evaluate_policy", "optimise"]

Values = list[Fraction]
Row = list[tuple[int, Fraction, Fraction]]   # (target, lo, hi); lo == hi for point models


@dataclass(frozen=True)
class ExactModel:
    """An `Mdp` unpacked into Python lists of exact numbers (small models only)."""

    mdp: Mdp
    rows: tuple[Row, ...]
    choices: tuple[range, ...]

    @classmethod
    def of(cls, mdp: Mdp) -> ExactModel:
        rows = tuple(mdp.successor_intervals(c) for c in range(mdp.n_choices))
        return cls(mdp, rows, tuple(mdp.choices(s) for s in range(mdp.n_states)))


def _expect(row: Row, value: Sequence[Fraction], nature: int) -> Fraction:
    """Σ P(s')·value(s') with P chosen by nature within the intervals (nature = -1 min, +1 max)."""
    if all(lo == hi for _, lo, hi in row):
        return sum((lo * value[t] for t, lo, _ in row), Fraction(0))
    ordered = sorted(row, key=lambda e: value[e[0]] * nature, reverse=True)
    free = 1 - sum((lo for _, lo, _ in row), Fraction(0))
    total = Fraction(0)
    for t, lo, hi in ordered:
        extra = min(hi - lo, free)
        free -= extra
        total += (lo + extra) * value[t]
    return total


def _successor_values(q: Quantity, w: Values) -> Values:
    stop, goal = q.stop, q.stop_value
    return [q.beta * w[s] + (q.eta if stop[s] and goal[s] else 0) for s in range(len(w))]


def _choice_values(m: ExactModel, q: Quantity, nxt: Values, nature: int, states: Sequence[int]) -> dict[int, Fraction]:
    reward = q.reward
    out: dict[int, Fraction] = {}
    for s in states:
        for c in m.choices[s]:
            out[c] = reward[c] + _expect(m.rows[c], nxt, nature)
    return out


def _terminal(q: Quantity, n: int) -> Values:
    return [Fraction(1) if q.stop[s] and q.stop_value[s] else Fraction(0) for s in range(n)]


def _apply(layer: PolicyLayer, s: int, qc: dict[int, Fraction]) -> Fraction | None:
    dist = layer.distribution(s)
    if not dist:
        return None
    return sum((p * qc[c] for c, p in dist), Fraction(0))


def evaluate_policy(m: ExactModel, q: Quantity, policy: Policy, nature: int = -1) -> Values:
    """The exact value W₀ of the quantity under a Markov policy, at every state.

    States where the policy is undefined get value 0 at steps where they matter; callers must
    first check that the policy is defined on every reachable state.
    """
    n = m.mdp.n_states
    live = [s for s in range(n) if not q.stop[s]]
    if q.steps is not None:
        w = _terminal(q, n)
        for t in reversed(range(q.steps)):
            qc = _choice_values(m, q, _successor_values(q, w), nature, live)
            layer = policy.at(t)
            w = [w[s] if q.stop[s] else (_apply(layer, s, qc) or Fraction(0)) for s in range(n)]
        return w
    # geometric: the last layer repeats for ever (a fixed point); earlier layers are steps before it
    w = _fixed_point(m, q, policy.layers[-1], nature)
    for layer in reversed(policy.layers[:-1]):
        qc = _choice_values(m, q, _successor_values(q, w), nature, live)
        w = [w[s] if q.stop[s] else (_apply(layer, s, qc) or Fraction(0)) for s in range(n)]
    return w


def _fixed_point(m: ExactModel, q: Quantity, layer: PolicyLayer, nature: int) -> Values:
    """Exact W = b + β P_π W under a stationary policy (credal: nature's strategy iteration)."""
    credal = m.mdp.is_credal
    w = _solve_fixed(m, q, layer, None)
    if not credal:
        return w
    while True:  # nature improves its vertex choice until no strict improvement (finite, β < 1)
        choice = _nature_rows(m, q, w, nature)
        w_new = _solve_fixed(m, q, layer, choice)
        if all(a == b for a, b in zip(w, w_new)):
            return w_new
        w = w_new


def _nature_rows(m: ExactModel, q: Quantity, w: Values, nature: int) -> dict[int, list[tuple[int, Fraction]]]:
    nxt = _successor_values(q, w)
    out = {}
    for c, row in enumerate(m.rows):
        ordered = sorted(row, key=lambda e: nxt[e[0]] * nature, reverse=True)
        free = 1 - sum((lo for _, lo, _ in row), Fraction(0))
        dist = []
        for t, lo, hi in ordered:
            extra = min(hi - lo, free)
            free -= extra
            dist.append((t, lo + extra))
        out[c] = dist
    return out


def _solve_fixed(m: ExactModel, q: Quantity, layer: PolicyLayer,
                 nature_rows: dict[int, list[tuple[int, Fraction]]] | None) -> Values:
    n = m.mdp.n_states
    equations: list[tuple[dict[int, Fraction], Fraction]] = []
    for s in range(n):
        if q.stop[s]:
            equations.append(({s: Fraction(1)}, Fraction(1) if q.stop_value[s] else Fraction(0)))
            continue
        coeff: dict[int, Fraction] = {s: Fraction(1)}
        rhs = Fraction(0)
        for c, p in layer.distribution(s):
            rhs += p * q.reward[c]
            row = nature_rows[c] if nature_rows is not None else [(t, lo) for t, lo, _ in m.rows[c]]
            for t, pt in row:
                coeff[t] = coeff.get(t, Fraction(0)) - p * pt * q.beta
                if q.stop[t] and q.stop_value[t]:
                    rhs += p * pt * q.eta
        equations.append((coeff, rhs))
    return solve_sparse(equations, n)


def optimise(m: ExactModel, q: Quantity, maximise: bool = True, nature: int = -1,
             initial: PolicyLayer | None = None) -> tuple[Values, Policy]:
    """The exact optimum of the quantity over all policies, and an optimal deterministic policy.

    Bounded: backward induction (the policy is time-dependent, one layer per step). Geometric:
    strategy iteration from `initial` (any stationary policy; a hint only, never trusted).
    """
    n = m.mdp.n_states
    live = [s for s in range(n) if not q.stop[s]]
    better: Callable[[Fraction, Fraction], bool] = (lambda a, b: a > b) if maximise else (lambda a, b: a < b)
    if q.steps is not None:
        w = _terminal(q, n)
        layers: list[PolicyLayer] = []
        for _ in reversed(range(q.steps)):
            qc = _choice_values(m, q, _successor_values(q, w), nature, live)
            w, layer = _greedy(m, q, w, qc, better)
            layers.append(layer)
        layers.reverse()
        if not layers:
            layers = [_greedy(m, q, w, _choice_values(m, q, _successor_values(q, w), nature, live), better)[1]]
        return w, Policy(tuple(layers))
    layer = initial or _greedy(m, q, _terminal(q, n), _choice_values(
        m, q, _successor_values(q, _terminal(q, n)), nature, live), better)[1]
    while True:
        w = _fixed_point(m, q, layer, nature)
        qc = _choice_values(m, q, _successor_values(q, w), nature, live)
        _, candidate = _greedy(m, q, w, qc, better, keep=layer)
        if all(int(a) == int(b) for a, b in zip(candidate.choice, layer.choice)) and len(candidate.choice) == len(layer.choice):
            return w, Policy.stationary(layer)
        layer = candidate


def _greedy(m: ExactModel, q: Quantity, w: Values, qc: dict[int, Fraction],
            better: Callable[[Fraction, Fraction], bool], keep: PolicyLayer | None = None) -> tuple[Values, PolicyLayer]:
    """Best choice per live state (ties: keep the current choice, else the lowest index)."""
    n = m.mdp.n_states
    best = np.full(n, -1, dtype=np.int64)
    new_w = list(w)
    for s in range(n):
        cs = m.choices[s]
        if q.stop[s]:
            best[s] = cs.start
            continue
        current = int(keep.choice[keep.start[s]]) if keep is not None and keep.defined(s) else None
        pick = current if current is not None else cs.start
        for c in cs:
            if better(qc[c], qc[pick]):
                pick = c
        best[s] = pick
        new_w[s] = qc[pick]
    return new_w, PolicyLayer.deterministic(m.mdp, best)
