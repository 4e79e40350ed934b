"""Robust unbounded reachability on credal (interval) models: P^max/min(φ U ψ), nature against the policy.

UNTRUSTED search, sound result: every number returned is a float bound proved below.

SPEC's credal semantics: at every step nature picks each distribution within the intervals of the
current state and action, against the policy (``Pmax``: the policy maximises and nature
minimises; ``Pmin``: the reverse), Storm's ``UncertaintyResolutionMode.ROBUST``. As in Storm,
the intervals must be *graph-preserving*: every listed successor has a positive lower bound, so
that nature changes probabilities but never which successors are possible. Then every
qualitative question (reach ψ with probability 0, or 1) has the answer it has on the support
graph, whatever nature does (its probabilities are bounded away from 0), and the precomputations
of `unbounded_graph` (Prob0/Prob1) apply unchanged; a model with an interval [0, u] is refused.

Values. V* is the least fixed point of T(x)(s) = opt_c N_c(x), with N_c(x) nature's optimum of
P·x over the intervals of choice c (`proofs.kernel.bellman.FloatBellman`'s credal pass: nature's
greedy, an exact distribution within the intervals, with its proved float error e). For
``Pmax`` every maximal end component M of the region is collapsed: from any state of M the
policy reaches every other one almost surely (graph preservation), and any strategy that leaves M
does so by one of M's exits, so V* is constant on M and equal to the best exit's N_c(V*); the
operator T_c that gives each state of M that maximum over M's exits (choices with a successor
outside M) has V* as a fixed point, and it is its only one, as in the point case (Haddad–Monmege
2018): on the quotient every strategy leaves the region almost surely. ``Pmin`` has no end
component in the region (the policy would stay in it for ever, of value 0, which Prob0 decides).

Soundness. T_c is monotone and V* = T_c(V*), so from bounds L ≤ V* ≤ U the images stay bounds:
fl(opt (N̂_c(L) − e)) one ulp down ≤ T_c(L) ≤ V* ≤ T_c(U) ≤ fl(opt (N̂_c(U) + e)) one ulp up.
Interval iteration starts from L = 0 and U = 1 on the region and runs until the enclosure at μ₀
is ``tolerance`` wide, stops narrowing, or the budget is spent; the bounds are honest in every
case.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.errors import InputError, Location
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.kernel.bellman import FloatBellman
from proofs.kernel.rounding import float_up
from proofs.semantics.unbounded_graph import Graph, Problem, probability_problem
from proofs.semantics.unbounded_sound import Bounds, first_best, groups, routed_policy

__all__ = ["graph_preserving", "robust_reach"]

F = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def graph_preserving(mdp: Mdp) -> None:
    """Refuse a credal model with a listed successor of lower bound 0 (an `InputError`)."""
    assert mdp.interval is not None
    lo = mdp.interval[0]
    zero = np.flatnonzero(lo.num <= 0)
    if len(zero):
        t = int(zero[0])
        c = int(mdp.transition_choice[t])
        s = int(mdp.choice_state[c])
        raise InputError(Location(mdp.source or "model"),
                         f"unbounded properties on interval models need graph-preserving intervals; the "
                         f"transition of state {mdp.states[s]!r}, action {mdp.action(c)!r} "
                         f"to {mdp.states[int(mdp.target[t])]!r} has lower bound 0",
                         "Give every listed successor a positive lower bound (drop the ones that cannot "
                         "happen), or ask a step-bounded property (F<=k), which any interval model answers")


def robust_reach(mdp: Mdp, keep: BoolArray, stop: BoolArray, *, maximise: bool, mu: F,
                 tolerance: float, max_iterations: int) -> tuple[Problem, Bounds]:
    """Sound bounds on P^max/min(keep U stop) at every state (module docstring), with the precomputed
    problem (its decided states and witnesses) and a policy greedy for the upper bounds."""
    graph_preserving(mdp)
    g = Graph(mdp)
    problem = probability_problem(g, keep, stop, maximise)
    region = problem.region
    grouped = groups(g, problem)
    rows, starts, n_groups = grouped.rows, grouped.row_start[:-1], grouped.n
    states = np.flatnonzero(region)
    op = FloatBellman(mdp, Rationals.zeros(mdp.n_choices), Fraction(1), highest=not maximise)
    reduce = np.maximum if maximise else np.minimum

    def step(x: F, upper: bool) -> F:
        q, err = op.choice_values(x)
        e = float_up(err)
        rows_q = q[rows] + e if upper else q[rows] - e
        best = reduce.reduceat(rows_q, starts) if n_groups else np.zeros(0)
        best = np.nextafter(best, np.inf if upper else -np.inf)
        out = x.copy()
        out[states] = np.clip(best[grouped.group[states]], 0.0, 1.0)
        return out

    lo = problem.one.astype(np.float64)
    hi = lo.copy()
    hi[region] = 1.0
    width, converged, last = math.inf, n_groups == 0, math.inf
    for k in range(max_iterations if n_groups else 0):
        lo, hi = np.maximum(lo, step(lo, False)), np.minimum(hi, step(hi, True))
        width = float(mu @ hi) - float(mu @ lo)
        if width <= tolerance:
            converged = True
            break
        if k % 64 == 63:   # stalled: rounding noise, not progress
            if width >= last * (1 - 1e-3):
                break
            last = width
    chosen = np.zeros(0, dtype=np.int64)
    if n_groups:   # greedy at the midpoint of the bounds (untrusted)
        chosen = rows[first_best(op.choice_values((lo + hi) / 2)[0][rows], grouped.row_start, maximise)]
    return problem, Bounds(lo, hi, routed_policy(g, problem, chosen, grouped.internal), converged)
