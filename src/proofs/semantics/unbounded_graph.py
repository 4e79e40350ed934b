"""Graph precomputations for unbounded reachability and reward-until (Baier–Katoen §10.6.1, PRISM).

UNTRUSTED search helper; qualitative only (no probability is read, only which successors are
possible). Shared by the exact and the sound solvers of `proofs.semantics.unbounded`.

Every fixed point is computed backwards in rounds over a frontier of newly added states: a round
touches only the transitions entering the frontier, with numpy over the CSR arrays, so a whole
precomputation costs O(transitions) work plus a small constant per round (rounds = the depth of
the backward search).

For ``φ U ψ`` with ``continue = φ`` and ``stop = ψ`` ("undecided" states: φ ∧ ¬ψ):

* `prob0_max`: P^max = 0 — no path through undecided states reaches ψ;
* `prob0_min`: P^min = 0 — some policy avoids ψ for ever (the complement of Prob0A's attractor);
* `prob1_max` (Prob1E): P^max = 1 — some policy reaches ψ almost surely;
* `prob1_min` (Prob1A): P^min = 1 — every policy reaches ψ almost surely;
* `end_components`: the maximal end components of a sub-MDP (for collapsing them).

Each also returns a *witness* choice per state where one is meaningful (an attractor strategy),
from which the solvers build memoryless deterministic policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from proofs.core.model import Mdp, concat_ranges
from proofs.core.numbers import Rationals, segment_reduce

__all__ = [
    "Graph", "Problem", "choices_inside", "end_components", "exists_attractor", "first_choice",
    "forall_attractor", "negative_reward_in_end_component", "prob0_max", "prob0_min", "prob1_max",
    "prob1_min", "probability_problem", "reward_problem",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Graph:
    """The transition structure of an `Mdp` with its reverse adjacency (built once per query)."""

    mdp: Mdp

    @cached_property
    def choice_state(self) -> IntArray:
        return self.mdp.choice_state

    @cached_property
    def _reverse(self) -> tuple[IntArray, IntArray]:
        target = self.mdp.target
        order = np.argsort(target, kind="stable")
        start = np.zeros(self.mdp.n_states + 1, dtype=np.int64)
        np.cumsum(np.bincount(target, minlength=self.mdp.n_states), out=start[1:])
        return start, self.mdp.transition_choice[order]

    def entering_choices(self, states: IntArray) -> IntArray:
        """The choices with a transition into one of ``states`` (with repeats)."""
        start, choice = self._reverse
        return choice[concat_ranges(start[states], start[states + 1])]

    @cached_property
    def n_choices_of(self) -> IntArray:
        return np.diff(self.mdp.choice_start)


def choices_inside(g: Graph, states: BoolArray) -> BoolArray:
    """For every choice, whether all its successors lie in ``states``."""
    inside = states[g.mdp.target].astype(np.uint8)
    result: BoolArray = segment_reduce(np.minimum, inside, g.mdp.row_start, 1).astype(bool)
    return result


def first_choice(g: Graph, flag: BoolArray) -> IntArray:
    """Per state the lowest-index choice with ``flag`` set, -1 where there is none."""
    nc = g.mdp.n_choices
    index = np.where(flag, np.arange(nc, dtype=np.int64), nc)
    first = segment_reduce(np.minimum, index, g.mdp.choice_start, nc).astype(np.int64)
    first[first == nc] = -1
    return first


def exists_attractor(g: Graph, seed: BoolArray, allowed: BoolArray,
                     choice_ok: BoolArray | None = None) -> tuple[BoolArray, IntArray]:
    """The least R ⊇ seed closed under: s ∈ allowed with some ``choice_ok`` choice hitting R.

    Returns R and, for every state added (not a seed), the choice that added it: it has a
    successor one round closer to the seed (an attractor strategy); -1 elsewhere.
    """
    reached = seed.copy()
    witness = np.full(g.mdp.n_states, -1, dtype=np.int64)
    frontier = np.flatnonzero(seed)
    while frontier.size:
        cs = g.entering_choices(frontier)
        if choice_ok is not None:
            cs = cs[choice_ok[cs]]
        ss = g.choice_state[cs]
        keep = allowed[ss] & ~reached[ss]
        new, first = np.unique(ss[keep], return_index=True)
        reached[new] = True
        witness[new] = cs[keep][first]
        frontier = new
    return reached, witness


def forall_attractor(g: Graph, seed: BoolArray, allowed: BoolArray) -> BoolArray:
    """The least R ⊇ seed closed under: s ∈ allowed (with a choice) whose every choice hits R."""
    reached = seed.copy()
    remaining = g.n_choices_of.copy()
    hit = np.zeros(g.mdp.n_choices, dtype=bool)
    frontier = np.flatnonzero(seed)
    while frontier.size:
        cs = g.entering_choices(frontier)
        cs = np.unique(cs[~hit[cs]])
        hit[cs] = True
        ss = g.choice_state[cs]
        ss = ss[allowed[ss] & ~reached[ss]]
        states, counts = np.unique(ss, return_counts=True)
        remaining[states] -= counts
        new = states[remaining[states] == 0]
        reached[new] = True
        frontier = new
    return reached


def prob0_max(g: Graph, undecided: BoolArray, stop: BoolArray) -> tuple[BoolArray, IntArray]:
    """States with P^max(φ U ψ) = 0, and a witness per other undecided state.

    The witness choice has a successor one step closer to ψ, so under it every undecided state
    with P^max > 0 reaches ψ with positive probability (a policy without end components there).
    """
    positive, witness = exists_attractor(g, stop, undecided)
    return ~positive, witness


def prob0_min(g: Graph, undecided: BoolArray, stop: BoolArray) -> BoolArray:
    """States with P^min(φ U ψ) = 0: complement of the universal attractor of ψ (Prob0A)."""
    return ~forall_attractor(g, stop, undecided)


def prob1_max(g: Graph, undecided: BoolArray, stop: BoolArray) -> tuple[BoolArray, IntArray]:
    """States with P^max(φ U ψ) = 1 (Prob1E), and an almost-surely winning witness choice.

    Greatest fixed point U of: the attractor of ψ through choices that stay in U. The witness
    of the last round stays in U and moves closer to ψ with positive probability, so it reaches
    ψ almost surely from every state of U (Baier–Katoen Alg. 45).
    """
    u = ~prob0_max(g, undecided, stop)[0]
    while True:
        reached, witness = exists_attractor(g, stop, undecided & u, choices_inside(g, u))
        if np.array_equal(reached, u):
            return u, witness
        u = reached


def prob1_min(g: Graph, undecided: BoolArray, stop: BoolArray) -> tuple[BoolArray, IntArray]:
    """States with P^min(φ U ψ) = 1 (Prob1A), and per other undecided state a choice that avoids ψ.

    P^min < 1 exactly at the states that can reach, through undecided states, the set Z where
    P^min = 0 (there some policy avoids ψ for ever). The returned choice is, on Z, one that
    stays in Z, and elsewhere the attractor choice towards Z: together a policy reaching ψ with
    probability < 1 from every state outside Prob1A.
    """
    zero = prob0_min(g, undecided, stop)
    below_one, witness = exists_attractor(g, zero, undecided)
    stay = first_choice(g, choices_inside(g, zero))
    witness = np.where(zero & undecided, stay, witness)
    return ~below_one, witness


def end_components(g: Graph, states: BoolArray, choices: BoolArray) -> tuple[IntArray, BoolArray]:
    """The maximal end components of the sub-MDP of ``states`` with the ``choices`` allowed.

    Returns a component id per state (-1 outside every end component) and the mask of the
    internal choices (allowed choices whose successors all lie in their state's component).
    A single state with an allowed self-loop choice is an end component. The usual algorithm:
    split into strongly connected components, drop choices that leave their component and
    states left without a choice, repeat until nothing changes.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    mdp = g.mdp
    n = mdp.n_states
    live = states.copy()
    ok = choices & live[g.choice_state]
    label = np.full(n, -1, dtype=np.int64)
    while True:
        ok &= choices_inside(g, live)
        has = np.zeros(n, dtype=bool)
        has[g.choice_state[ok]] = True
        live &= has
        ok &= live[g.choice_state]
        trans = np.repeat(ok, np.diff(mdp.row_start))
        src = g.choice_state[mdp.transition_choice[trans]]
        adj = csr_matrix((np.ones(len(src), dtype=np.int32), (src, mdp.target[trans])), shape=(n, n))
        _, comp = connected_components(adj, directed=True, connection="strong")
        same = comp[mdp.target] == comp[g.choice_state[mdp.transition_choice]]
        stays = segment_reduce(np.minimum, same.astype(np.uint8), mdp.row_start, 1).astype(bool)
        new_ok = ok & stays
        has = np.zeros(n, dtype=bool)
        has[g.choice_state[new_ok]] = True
        new_live = live & has
        if np.array_equal(new_ok, ok) and np.array_equal(new_live, live):
            break
        ok, live = new_ok & new_live[g.choice_state], new_live
    _, dense = np.unique(comp[live], return_inverse=True)
    label[live] = dense.ravel()
    return label, ok


# -- the numerical problem left after the precomputations ------------------------------------------
@dataclass(frozen=True, eq=False)
class Problem:
    """What remains to be solved numerically after the graph precomputations.

    Attributes
    ----------
    region
        The states whose values the linear systems / iterations determine.
    allowed
        The choices a region state may use (all of its choices, except for a minimised reward,
        where only the choices that keep P^max(F target) = 1 are proper candidates).
    one, infinite
        Outside the region: the states of value 1 (probabilities) and of value +infinity
        (rewards); every other state outside the region has value 0.
    reward
        r(s, a) per choice for reward-until, None for probabilities.
    maximise
        The direction of the optimisation.
    start
        Per region state a choice whose policy reaches the decided states almost surely
        (strategy iteration starts from it); -1 elsewhere.
    outside
        Per state outside the region, an optimal choice where one matters (-1 elsewhere).
    collapse
        The choices whose end components the sound solver must collapse (None when the region
        has no end component that matters: every policy leaves it almost surely).
    """

    mdp: Mdp
    region: BoolArray
    allowed: BoolArray
    one: BoolArray
    infinite: BoolArray
    reward: Rationals | None
    maximise: bool
    start: IntArray
    outside: IntArray
    collapse: BoolArray | None


def probability_problem(g: Graph, keep: BoolArray, stop: BoolArray, maximise: bool) -> Problem:
    """The problem of P^max/min(keep U stop) after Prob0/Prob1 (Baier–Katoen Alg. 44–46)."""
    mdp = g.mdp
    undecided = keep & ~stop
    first = mdp.choice_start[:-1].astype(np.int64)
    none = np.zeros(mdp.n_states, dtype=bool)
    if maximise:
        zero, towards = prob0_max(g, undecided, stop)
        one, sure = prob1_max(g, undecided, stop)
        region = undecided & ~zero & ~one
        # Prob1E states follow the almost-surely winning witness; Prob0 states may do anything
        outside = np.where(one & undecided, sure, np.where(undecided, first, -1))
        in_region = region[g.choice_state]
        return Problem(mdp, region, in_region, one | stop, none, None, True,
                       np.where(region, towards, -1), np.where(region, -1, outside), in_region)
    zero = prob0_min(g, undecided, stop)
    one, avoid = prob1_min(g, undecided, stop)
    region = undecided & ~zero & ~one
    # P^min = 0 states keep avoiding ψ; on P^min = 1 states every choice is optimal
    outside = np.where(zero & undecided, avoid, np.where(undecided, first, -1))
    return Problem(mdp, region, region[g.choice_state], one | stop, none, None, False,
                   np.where(region, first, -1), np.where(region, -1, outside), None)


def reward_problem(g: Graph, reward: Rationals, target: BoolArray, maximise: bool) -> Problem:
    """The problem of R^max/min(F target) after the infinity precomputation (Storm's convention).

    Maximising: the value is +inf exactly where P^min(F target) < 1 (some policy misses the
    target with positive probability); on the rest (Prob1A) every policy reaches it almost
    surely, so the region has no end component. Minimising: +inf exactly where
    P^max(F target) < 1; the region (Prob1E) keeps only the choices that stay in Prob1E, and
    its zero-reward end components are collapsed by the sound solver (staying in one for ever
    misses the target; leaving it by its best exit is what a proper policy does).
    """
    mdp = g.mdp
    undecided = ~target
    first = mdp.choice_start[:-1].astype(np.int64)
    none = np.zeros(mdp.n_states, dtype=bool)
    if maximise:
        finite, avoid = prob1_min(g, undecided, target)
        region = finite & undecided
        return Problem(mdp, region, region[g.choice_state], none, ~finite, reward, True,
                       np.where(region, first, -1), np.where(~finite, avoid, -1), None)
    finite, sure = prob1_max(g, undecided, target)
    region = finite & undecided
    allowed = region[g.choice_state] & choices_inside(g, finite)
    zero_reward = np.asarray(reward.num == 0, dtype=bool)
    return Problem(mdp, region, allowed, none, ~finite, reward, False,
                   np.where(region, sure, -1), np.where(~finite, first, -1), allowed & zero_reward)


def negative_reward_in_end_component(g: Graph, problem: Problem) -> bool:
    """Whether a choice with negative reward lies inside an end component of the region.

    Minimising a reward until the target is then ill-posed (a proper policy can circle a
    negative cycle as often as it likes before leaving), and Storm's answer is an artefact of
    its algorithm, so `proofs` refuses such a query.
    """
    assert problem.reward is not None
    negative = np.asarray(problem.reward.num < 0, dtype=bool) & problem.allowed
    if not negative.any():
        return False
    _, internal = end_components(g, problem.region, problem.allowed)
    return bool((internal & negative).any())
