"""The part of a world model a finite horizon can see: states within H steps of μ₀.

TRUSTED. With a finite horizon H the episode visits s_0 … s_H and acts at s_0 … s_{H−1}. Let
dist(s) be the fewest transitions (of any choice, with positive probability) from a state of μ₀
to s. A state visited at step t has dist ≤ t. So every state an episode visits has dist ≤ H, and
every state where it acts has dist < H, and each such state's successors have dist ≤ H.

`restrict` keeps the states with dist ≤ H (in their original order). States with dist < H keep
all their choices unchanged; states with dist = H (the frontier) never act, so their choices are
replaced by one dummy choice (a self-loop with reward 0) that keeps the model well formed. Labels
are kept. Under every policy (history-dependent, randomized) the joint law of (s_0, a_0, …, s_H)
is then the same in both models, and so is every quantity of SPEC §2 that reads the episode: J,
J*, every constraint of Φ (also with step bounds ≤ H), and the worst of a constraint over the
ε-optimal policies. Policies of either model act alike on every state where an action is taken.

For a geometric horizon nothing is cut: `restrict` keeps every state reachable from μ₀ (a set
closed under successors), which changes no value either.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from proofs.core.model import Mdp, concat_ranges
from proofs.core.numbers import Rationals
from proofs.core.policy import Policy, PolicyLayer

__all__ = ["FRONTIER_ACTION", "distances", "restrict", "restrict_with_policy"]

FRONTIER_ACTION = "(beyond the horizon)"
IntArray = npt.NDArray[np.int64]


def _positive(mdp: Mdp) -> npt.NDArray[np.bool_]:
    values = mdp.probability if mdp.probability is not None else mdp.interval[1]  # type: ignore[index]
    positive: npt.NDArray[np.bool_] = np.asarray(values.num != 0, dtype=np.bool_)
    return positive


def distances(mdp: Mdp, limit: int) -> IntArray:
    """dist(s) for every state, breadth first from μ₀; ``limit + 1`` for states farther than limit.

    Each level expands only the transitions of the states first reached at the previous level,
    so the whole search reads every transition at most once.
    """
    far = limit + 1
    dist = np.full(mdp.n_states, far, dtype=np.int64)
    positive = _positive(mdp)
    frontier = np.unique(mdp.initial_states.astype(np.int64))
    dist[frontier] = 0
    for level in range(1, limit + 1):
        if len(frontier) == 0:
            break
        choices = concat_ranges(mdp.choice_start[frontier], mdp.choice_start[frontier + 1])
        transitions = concat_ranges(mdp.row_start[choices], mdp.row_start[choices + 1])
        seen = np.zeros(mdp.n_states, dtype=np.bool_)
        seen[mdp.target[transitions[positive[transitions]]]] = True
        frontier = np.flatnonzero(seen & (dist == far))
        dist[frontier] = level
    return dist


def restrict(mdp: Mdp, steps: int | None, *, always: bool = False) -> Mdp:
    """The model restricted to what an episode of ``steps`` actions (None: geometric) can see.

    Returns ``mdp`` itself when the restriction would keep half of the states or more: the
    restriction is only a saving (values are the same either way), and copying a large model to
    drop a few states is none.
    """
    return _restriction(mdp, steps, always)[0]


def restrict_with_policy(mdp: Mdp, steps: int | None, policy: Policy, *,
                         always: bool = False) -> tuple[Mdp, Policy]:
    """The restricted model, and the policy's layers carried over to it.

    Kept states with all their choices keep the policy's entries (choice indices renumbered); a
    frontier state with the dummy choice never acts within the horizon, so its entries are dropped.
    """
    small, kept, dummy = _restriction(mdp, steps, always)
    if kept is None:
        return mdp, policy
    new_index = np.full(mdp.n_states, -1, dtype=np.int64)
    new_index[kept] = np.arange(len(kept), dtype=np.int64)
    layers = []
    for layer in policy.layers:
        counts = np.diff(layer.start)
        keep_entry = np.repeat((new_index >= 0) & ~dummy, counts)
        entries = np.flatnonzero(keep_entry)
        owner = np.repeat(np.arange(mdp.n_states, dtype=np.int64), counts)[entries]
        choice = small.choice_start[new_index[owner]] + (layer.choice[entries] - mdp.choice_start[owner])
        new_counts = np.bincount(new_index[owner], minlength=small.n_states)
        start = np.zeros(small.n_states + 1, dtype=np.int64)
        np.cumsum(new_counts, out=start[1:])
        layers.append(PolicyLayer(start, choice.astype(np.int64), layer.probability.take(entries)))
    return small, Policy(tuple(layers))


def _restriction(mdp: Mdp, steps: int | None,
                 always: bool = False) -> tuple[Mdp, IntArray | None, npt.NDArray[np.bool_]]:
    """(restricted model, kept original states or None if nothing changed, frontier dummy mask).

    ``always``: cut whenever anything can be cut (tests exercise the construction this way).
    """
    limit = mdp.n_states if steps is None else steps
    dist = distances(mdp, limit)
    keep = np.flatnonzero(dist <= limit)
    no_dummy = np.zeros(mdp.n_states, dtype=np.bool_)
    if 2 * len(keep) >= mdp.n_states and not always:   # a copy would cost more than it saves
        return mdp, None, no_dummy
    dummy = no_dummy.copy()
    if steps is not None:   # frontier states with a successor beyond the horizon get the dummy choice
        frontier = np.flatnonzero(dist == limit)
        choices = concat_ranges(mdp.choice_start[frontier], mdp.choice_start[frontier + 1])
        transitions = concat_ranges(mdp.row_start[choices], mdp.row_start[choices + 1])
        owner = np.repeat(mdp.choice_state[choices], np.diff(mdp.row_start)[choices])
        dummy[owner[dist[mdp.target[transitions]] > limit]] = True
    if len(keep) == mdp.n_states and not np.any(dummy):
        return mdp, None, no_dummy
    return _build(mdp, keep, dummy), keep, dummy


def _build(mdp: Mdp, keep: IntArray, dummy: npt.NDArray[np.bool_]) -> Mdp:
    new_index = np.full(mdp.n_states, -1, dtype=np.int64)
    new_index[keep] = np.arange(len(keep), dtype=np.int64)
    counts = np.diff(mdp.choice_start)
    kept_choice = np.repeat(~dummy, counts) & np.repeat(new_index >= 0, counts)
    choices = np.flatnonzero(kept_choice)
    row_len = np.diff(mdp.row_start)[choices]
    transitions = concat_ranges(mdp.row_start[choices], mdp.row_start[choices + 1])
    # per kept state, its kept choices then (if a dummy) one dummy choice; keep the choice order
    dummy_states = np.flatnonzero(dummy[keep])
    n_new = len(keep)
    per_state = np.where(dummy[keep], 1, counts[keep])
    choice_start = np.zeros(n_new + 1, dtype=np.int64)
    np.cumsum(per_state, out=choice_start[1:])
    n_choices = int(choice_start[-1])
    is_dummy = np.zeros(n_choices, dtype=np.bool_)
    is_dummy[choice_start[dummy_states]] = True
    real = np.flatnonzero(~is_dummy)   # the kept choices land here, in order
    lengths = np.ones(n_choices, dtype=np.int64)
    lengths[real] = row_len
    row_start = np.zeros(n_choices + 1, dtype=np.int64)
    np.cumsum(lengths, out=row_start[1:])
    target = np.empty(int(row_start[-1]), dtype=np.int64)
    real_rows = np.repeat(~is_dummy, lengths)
    target[real_rows] = new_index[mdp.target[transitions]]
    target[~real_rows] = dummy_states
    action_names = mdp.action_names + (FRONTIER_ACTION,)
    choice_action = np.full(n_choices, len(mdp.action_names), dtype=np.int32)
    choice_action[real] = mdp.choice_action[choices]

    def spread(values: Rationals, where: npt.NDArray[np.bool_], index: IntArray, fill: int) -> Rationals:
        parts = values.take(index)
        out_num = np.full(len(where), fill, dtype=parts.num.dtype)
        out_den = np.ones(len(where), dtype=parts.den.dtype)
        out_num[where], out_den[where] = parts.num, parts.den
        return Rationals(out_num, out_den)

    probability = None if mdp.probability is None else spread(mdp.probability, real_rows, transitions, 1)
    interval = None if mdp.interval is None else (spread(mdp.interval[0], real_rows, transitions, 1),
                                                  spread(mdp.interval[1], real_rows, transitions, 1))
    rewards = {name: spread(r, ~is_dummy, choices, 0) for name, r in mdp.rewards.items()}
    labels = {name: mask[keep] for name, mask in mdp.labels.items()}
    return Mdp(tuple(mdp.states[s] for s in keep.tolist()), choice_start, action_names, choice_action, row_start,
               target, probability, rewards, labels, new_index[mdp.initial_states.astype(np.int64)],
               mdp.initial_probability, interval, mdp.source, mdp.constants)
