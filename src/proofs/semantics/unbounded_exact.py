"""Exact optimum of an unbounded `Problem`: strategy iteration with exact `Fraction` linear solves.

UNTRUSTED search, exact result. After the graph precomputations (`unbounded_graph`) the region
is solved by strategy (policy) iteration (Howard; Baier–Katoen §10.6.1): evaluate the current
memoryless deterministic policy exactly (`linear.solve_sparse`), switch a state to another
choice only when it is *strictly* better, stop when no choice improves any state. The final
check is exactly "no improving choice", i.e. the values satisfy the Bellman optimality equation.

Why each case is exact and terminates:

* Every policy met is *proper* on the region (leaves it almost surely), so its linear system is
  non-singular. P^min and R^max: every policy is proper there (an end component inside the
  region would give P^min = 0, resp. a policy missing the target). P^max and R^min start from the
  precomputation's attractor witness (proper), and a strict improvement keeps a policy proper:
  on a set E closed under the new policy, take the states where the old value is largest (P^max)
  or smallest (R^min, rewards ≥ 0 inside end components); they are closed under the old policy
  too, contradicting its properness.
* Values improve strictly at each switch, and there are finitely many policies.
* Optimality. P^max: the final values x are a fixed point of the Bellman operator F, and the
  value of a policy, so lfp(F) = P^max ≤ x ≤ P^max. P^min, R^max: F has a unique fixed point on a
  region where every policy is proper. R^min: for any policy σ reaching the target almost surely
  (every other policy has value +inf), x ≤ r_σ + P_σ x gives x ≤ E_σ[reward] by iterating along
  σ (a supermartingale argument; x is bounded and vanishes on the target).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction

import numpy as np

from proofs.semantics.linear import solve_sparse
from proofs.semantics.unbounded_graph import Graph, Problem, exists_attractor

__all__ = ["TooExpensive", "solve_exact"]

Row = list[tuple[int, Fraction]]


class TooExpensive(Exception):
    """The exact linear algebra would exceed its work budget."""


class _Budget:
    """Work left for the exact eliminations of one query (None: unlimited)."""

    def __init__(self, limit: float | None) -> None:
        self.limit, self.spent = limit, 0.0

    def spend(self, work: float) -> None:
        self.spent += work
        if self.limit is not None and self.spent > self.limit:
            raise TooExpensive(f"exact elimination beyond {self.limit:.3g} bit operations")


def solve_exact(g: Graph, problem: Problem, hint: Mapping[int, int] | None = None,
                budget: float | None = None) -> tuple[list[Fraction | None], dict[int, int]]:
    """The exact value at every state (None for +infinity) and an optimal deterministic policy.

    The policy maps a state to a global choice index; it covers the region and every state
    outside it where a choice matters (see `Problem.outside`).

    Parameters
    ----------
    hint
        A policy to start from (e.g. the float solver's greedy one): only a hint. Where it is
        not proper on the region, the precomputation's witness choices replace it, so the
        invariant of the module docstring holds from the start. A good hint saves exact solves.
    budget
        Raise `TooExpensive` once the eliminations' work (Σ over pivots of the operand bit
        lengths they multiply, over every solve of the query) exceeds this; None: no limit.
        Deterministic, unlike a timeout (about 40 ns per unit in CPython).
    """
    mdp = problem.mdp
    n = mdp.n_states
    values: list[Fraction | None] = [
        None if problem.infinite[s] else Fraction(1) if problem.one[s] else Fraction(0) for s in range(n)
    ]
    states = np.flatnonzero(problem.region).tolist()
    policy = {s: int(c) for s, c in enumerate(problem.outside.tolist()) if c >= 0}
    if not states:
        return values, policy
    allowed = problem.allowed
    options = {s: [c for c in mdp.choices(s) if allowed[c]] for s in states}
    rows = {c: mdp.successors(c) for cs in options.values() for c in cs}
    reward = problem.reward
    base = {c: (reward[c] if reward is not None else Fraction(0)) for c in rows}
    fixed = [v if v is not None else Fraction(0) for v in values]
    current = _initial(g, problem, hint)
    work = _Budget(budget)
    better: Callable[[Fraction, Fraction], bool] = (
        (lambda a, b: a > b) if problem.maximise else (lambda a, b: a < b))
    index = {s: i for i, s in enumerate(states)}
    while True:
        x = _evaluate(states, index, current, rows, base, fixed, work)
        for s, v in zip(states, x):
            fixed[s] = v
        changed = False
        for s in states:
            best_choice = current[s]
            best = _q(rows[best_choice], base[best_choice], fixed)
            for c in options[s]:
                q = _q(rows[c], base[c], fixed)
                if better(q, best):
                    best, best_choice = q, c
            if best_choice != current[s]:
                current[s] = best_choice
                changed = True
        if not changed:
            break
    for s in states:
        values[s] = fixed[s]
    policy.update(current)
    return values, policy


def _q(row: Row, base: Fraction, value: list[Fraction]) -> Fraction:
    return base + sum((p * value[t] for t, p in row), Fraction(0))


def _initial(g: Graph, problem: Problem, hint: Mapping[int, int] | None) -> dict[int, int]:
    """The hint where it is allowed and proper on the region, the witness `Problem.start` elsewhere.

    Kept: the states from which the hint's own choices reach the outside of the region with
    positive probability (a backward search through them). Every other state takes its witness,
    which moves towards the outside; the witnesses end in kept states or outside, so the
    combination is proper.
    """
    choice = problem.start.copy()
    if hint:
        allowed = problem.allowed
        for s, c in hint.items():
            if problem.region[s] and 0 <= c < len(allowed) and allowed[c] and g.choice_state[c] == s:
                choice[s] = c
        ok = np.zeros(problem.mdp.n_choices, dtype=bool)
        ok[choice[problem.region]] = True
        kept, _ = exists_attractor(g, ~problem.region, problem.region, ok)
        choice = np.where(kept, choice, problem.start)
    return {int(s): int(choice[s]) for s in np.flatnonzero(problem.region)}


def _evaluate(states: list[int], index: dict[int, int], policy: dict[int, int], rows: dict[int, Row],
              base: dict[int, Fraction], fixed: list[Fraction], budget: _Budget) -> list[Fraction]:
    """The exact values of a proper policy on the region: x = r_π + P_π x (outside values fixed)."""
    equations: list[tuple[dict[int, Fraction], Fraction]] = []
    for s in states:
        c = policy[s]
        coeff: dict[int, Fraction] = {index[s]: Fraction(1)}
        rhs = base[c]
        for t, p in rows[c]:
            j = index.get(t)
            if j is None:
                rhs += p * fixed[t]
            else:
                coeff[j] = coeff.get(j, Fraction(0)) - p
        equations.append((coeff, rhs))
    return _solve(equations, len(states), budget)


def _size(x: Fraction) -> int:
    return x.numerator.bit_length() + x.denominator.bit_length()


def _solve(equations: list[tuple[dict[int, Fraction], Fraction]], n: int, budget: _Budget) -> list[Fraction]:
    """`proofs.semantics.linear.solve_sparse`, with the work budget charged once per pivot."""
    if budget.limit is None:
        return solve_sparse(equations, n)

    def charge(rows: int, a: dict[int, Fraction], b: Fraction) -> None:
        budget.spend(rows * (sum(_size(v) for v in a.values()) + _size(b)))

    return solve_sparse(equations, n, on_pivot=charge)
