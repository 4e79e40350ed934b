"""A policy's behaviour as a canonical table: restriction to reached states, canonical JSON, hash.

TRUSTED (reading base): the kernel re-reads policy files and re-derives their canonical table
and SHA-256 through this module.

A policy is known only by its behaviour: the distribution it plays at step t in every state
that it reaches at step t with positive probability from μ₀ (SPEC §4). This module computes
that behaviour and writes it down in one way only.

Reached states
    ``R_0`` is the support of μ₀; ``R_{t+1}`` the states entered with positive probability
    from ``R_t`` under the policy's step-t decision rule (for a credal model: with positive
    upper probability, as nature may pick it). The policy acts at the steps ``t < H`` of a
    finite horizon H (the last state s_H takes no action, so needs no entry) and at every
    step of the geometric horizon.
The first undefined state
    States are visited in breadth-first order: by the step at which the policy must act in
    them, then by their index in the model (its state order). The first undefined state is
    the first one in that order without an entry; `UndefinedState` names it.
The canonical table
    Per step, the decision rule restricted to the states reached at that step, with
    zero-probability entries dropped. Steps at or beyond the last layer all use the last
    layer, so they form one block (and for a finite H, layers from H on are irrelevant).
    Then trailing steps are merged while they agree on every state they share: a policy
    whose reached steps agree everywhere becomes stationary (one table, ``"actions"``), any
    other keeps the shortest list of per-step tables whose last table repeats (``"steps"``).
    Two policies with the same behaviour therefore have the same canonical table.
"""

from __future__ import annotations

import hashlib
import json
import operator
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs.core.certificate import write_atomic
from proofs.core.model import Mdp, concat_ranges
from proofs.core.numbers import Rationals, groups_sum_to_one
from proofs.core.policy import Policy, PolicyLayer, encode_table, table_bytes

__all__ = [
    "FORMAT",
    "INLINE_ENTRIES",
    "CanonicalTable",
    "UndefinedState",
    "canonical_json",
    "canonical_table",
    "policy_document",
    "policy_hash",
    "reachable_table",
    "write_policy_json",
]

FORMAT = "proofs.policy/1"
_NARROW = 16  # levels at most this wide are expanded with scalar indexing
# Tables made by `reachable_table`, with their model and horizon: canonicalising one again
# (load_policy, then policy_hash) returns it as is instead of re-running the search.
_MADE: weakref.WeakKeyDictionary[Policy, tuple[weakref.ref[Mdp], int | None]] = weakref.WeakKeyDictionary()

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class UndefinedState(ValueError):
    """The policy reaches a state in which it has no action.

    Attributes
    ----------
    step
        The first step at which the policy must act in ``state``.
    state
        Index of the first undefined state (breadth-first order, see the module docstring).
    others
        How many more undefined states the policy reaches at that same step.
    """

    def __init__(self, step: int, state: int, others: int) -> None:
        super().__init__(f"the policy reaches state {state} at step {step} and has no action there")
        self.step, self.state, self.others = step, state, others


# -- index helpers ---------------------------------------------------------------------------
def _live_transitions(mdp: Mdp) -> BoolArray:
    """Transitions that can happen: positive probability (credal: positive upper bound)."""
    if mdp.probability is not None:
        return _positive(mdp.probability)
    assert mdp.interval is not None
    return _positive(mdp.interval[1])


def _positive(values: Rationals) -> BoolArray:
    """Which values are positive (denominators are positive, so the numerator's sign decides)."""
    return np.asarray(np.greater(values.num, 0), dtype=np.bool_)


def _reduced(values: Rationals) -> Rationals:
    if values.is_compact:
        g = np.gcd(values.num, values.den)
        g[g == 0] = 1
        return Rationals(values.num // g, values.den // g)
    return Rationals.from_fractions(values.fractions())


# -- normal form of one layer ----------------------------------------------------------------
def _normalized(mdp: Mdp, layer: PolicyLayer) -> PolicyLayer:
    """Zero-probability entries dropped, entries of a state sorted by choice, fractions reduced.

    Raises ValueError when the layer is not a decision rule of ``mdp`` (a programming error:
    loaders validate user input before building layers).
    """
    if (layer.start.shape != (mdp.n_states + 1,) or int(layer.start[0]) != 0
            or int(layer.start[-1]) != len(layer.choice) or np.any(np.diff(layer.start) < 0)):
        raise ValueError("the policy layer does not have one entry range per state of the model")
    owner = np.repeat(np.arange(mdp.n_states, dtype=np.int64), np.diff(layer.start))
    if len(layer.choice) and (
        np.any(layer.choice < 0) or np.any(layer.choice >= mdp.n_choices)
        or np.any(mdp.choice_state[layer.choice] != owner)
    ):
        raise ValueError("a policy entry names a choice that does not belong to its state")
    if not layer.probability.all_nonnegative():
        raise ValueError("a policy entry has a negative probability")
    defined = np.diff(layer.start) > 0
    if not np.all(groups_sum_to_one(layer.probability, layer.start)[defined]):
        raise ValueError("a policy distribution does not sum to exactly 1")
    keep = np.flatnonzero(layer.probability.num != 0)
    order = keep[np.lexsort((layer.choice[keep], owner[keep]))]
    if np.any((np.diff(owner[order]) == 0) & (np.diff(layer.choice[order]) == 0)):
        raise ValueError("a policy distribution lists the same choice twice")
    return _from_entries(mdp.n_states, owner[order], layer.choice[order],
                         _reduced(layer.probability.take(order)))


def _from_entries(n_states: int, owner: IntArray, choice: IntArray, probability: Rationals) -> PolicyLayer:
    """A layer from entries already grouped by state (``owner`` non-decreasing)."""
    start = np.zeros(n_states + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n_states), out=start[1:])
    return PolicyLayer(start, choice.astype(np.int64), probability)


def _restricted(layer: PolicyLayer, states: IntArray) -> PolicyLayer:
    """``layer`` on the sorted ``states`` only."""
    n = len(layer.start) - 1
    entries = concat_ranges(layer.start[states], layer.start[states + 1])
    owner = np.repeat(states, layer.start[states + 1] - layer.start[states])
    return _from_entries(n, owner, layer.choice[entries], layer.probability.take(entries))


# -- reachability ----------------------------------------------------------------------------
def _successors(mdp: Mdp, live: BoolArray, layer: PolicyLayer, states: IntArray) -> IntArray:
    """The sorted states entered with positive probability from ``states`` under ``layer``."""
    entries = concat_ranges(layer.start[states], layer.start[states + 1])
    choices = layer.choice[entries]
    rows = concat_ranges(mdp.row_start[choices], mdp.row_start[choices + 1])
    return _distinct(mdp.target[rows[live[rows]]], mdp.n_states)


def _distinct(values: IntArray, n: int) -> IntArray:
    """The sorted distinct values in ``range(n)`` (a mask when dense, a sort when sparse)."""
    if 8 * len(values) > n:
        mask = np.zeros(n, dtype=bool)
        mask[values] = True
        return np.flatnonzero(mask).astype(np.int64)
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _require_defined(layer: PolicyLayer, states: IntArray, step: int) -> None:
    missing = states[layer.start[states + 1] == layer.start[states]]
    if len(missing):
        raise UndefinedState(step, int(missing[0]), len(missing) - 1)


def _closure(mdp: Mdp, live: BoolArray, layer: PolicyLayer, states: IntArray,
             step: int, last_step: int | None) -> IntArray:
    """States reached from ``states`` (acted in at ``step``) at any step up to ``last_step``.

    Breadth-first by levels; a state is expanded once, at the first step it is reached (the
    decision rule is the same at every step here). Wide levels go through numpy; narrow ones
    (a long corridor, a random walk on a line) through `_narrow_levels`, because there the
    cost is one numpy call overhead per level, not per state.
    """
    seen = np.zeros(mdp.n_states, dtype=bool)
    seen[states] = True
    frontier = states
    while len(frontier):
        if len(frontier) <= _NARROW:
            frontier, step = _narrow_levels(mdp, live, layer, frontier.tolist(), seen, step, last_step)
            continue
        _require_defined(layer, frontier, step)
        if last_step is not None and step >= last_step:
            break
        successors = _successors(mdp, live, layer, frontier)
        frontier = successors[~seen[successors]]
        seen[frontier] = True
        step += 1
    return np.flatnonzero(seen).astype(np.int64)


def _narrow_levels(mdp: Mdp, live: BoolArray, layer: PolicyLayer, frontier: list[int], seen: BoolArray,
                   step: int, last_step: int | None) -> tuple[IntArray, int]:
    """Run levels with scalar indexing while they stay narrow; return the next wide frontier."""
    start, choice, row_start, target = layer.start, layer.choice, mdp.row_start, mdp.target
    while frontier and len(frontier) <= _NARROW:
        missing = [s for s in frontier if start[s] == start[s + 1]]
        if missing:
            raise UndefinedState(step, missing[0], len(missing) - 1)
        if last_step is not None and step >= last_step:
            return np.zeros(0, dtype=np.int64), step
        found: set[int] = set()
        for s in frontier:
            for c in choice[start[s]:start[s + 1]].tolist():
                lo, hi = row_start[c], row_start[c + 1]
                found.update(target[lo:hi][live[lo:hi]].tolist())
        frontier = sorted(t for t in found if not seen[t])
        seen[frontier] = True
        step += 1
    return np.array(frontier, dtype=np.int64), step


def _reached_blocks(mdp: Mdp, layers: list[PolicyLayer], horizon: int | None) -> Iterator[IntArray]:
    """Per layer, the states in which it acts (the last layer: at all its steps together)."""
    live = _live_transitions(mdp)
    initial = mdp.initial_states[_positive(mdp.initial_probability)]
    states = np.unique(initial.astype(np.int64))
    count = len(layers) if horizon is None else min(len(layers), horizon)
    for step in range(count - 1):
        _require_defined(layers[step], states, step)
        yield states
        states = _successors(mdp, live, layers[step], states)
    last_step = None if horizon is None else horizon - 1
    yield _closure(mdp, live, layers[count - 1], states, count - 1, last_step)


# -- merging steps that agree ----------------------------------------------------------------
def _agree(a: PolicyLayer, b: PolicyLayer) -> bool:
    """Whether two normalized layers give the same distribution on every state both define."""
    count_a, count_b = np.diff(a.start), np.diff(b.start)
    both = np.flatnonzero((count_a > 0) & (count_b > 0))
    if not np.array_equal(count_a[both], count_b[both]):
        return False
    ia = concat_ranges(a.start[both], a.start[both + 1])
    ib = concat_ranges(b.start[both], b.start[both + 1])
    return bool(
        np.array_equal(a.choice[ia], b.choice[ib])
        and np.array_equal(a.probability.num[ia], b.probability.num[ib])
        and np.array_equal(a.probability.den[ia], b.probability.den[ib])
    )


def _union(early: PolicyLayer, late: PolicyLayer) -> PolicyLayer:
    """``late`` where it is defined, else ``early`` (for layers that agree)."""
    n = len(late.start) - 1
    from_late = np.diff(late.start) > 0
    take_early = np.flatnonzero((np.diff(early.start) > 0) & ~from_late)
    take_late = np.flatnonzero(from_late)
    ie = concat_ranges(early.start[take_early], early.start[take_early + 1])
    il = concat_ranges(late.start[take_late], late.start[take_late + 1])
    owner = np.concatenate([np.repeat(take_early, np.diff(early.start)[take_early]),
                            np.repeat(take_late, np.diff(late.start)[take_late])])
    choice = np.concatenate([early.choice[ie], late.choice[il]])
    probability = Rationals.concatenate([early.probability.take(ie), late.probability.take(il)])
    order = np.argsort(owner, kind="stable")
    return _from_entries(n, owner[order], choice[order], probability.take(order))


def _merged(blocks: list[PolicyLayer]) -> tuple[PolicyLayer, ...]:
    """The shortest per-step list with the same behaviour: trailing agreeing steps become one."""
    tail = blocks[-1]
    first = len(blocks) - 1
    while first > 0 and _agree(blocks[first - 1], tail):
        first -= 1
        tail = _union(blocks[first], tail)
    return (*blocks[:first], tail)


def reachable_table(mdp: Mdp, policy: Policy, horizon: int | None) -> Policy:
    """The policy's behaviour: its canonical table over the states it reaches.

    Parameters
    ----------
    mdp
        The world model.
    policy
        A Markov policy over ``mdp`` (its layers may define extra states or be longer than
        the horizon).
    horizon
        A finite horizon H ≥ 1 (the policy acts at steps 0 … H-1), or ``None`` for the
        geometric horizon (every finite step).

    Returns
    -------
    Policy
        The canonical table (module docstring): stationary whenever the behaviour allows, else
        the shortest per-step list; zero-probability entries dropped, entries sorted by choice.
        Applying it gives the same episode distribution as ``policy``.

    Raises
    ------
    UndefinedState
        If the policy reaches a state in which it has no action (the first one in
        breadth-first order).
    ValueError
        If a layer is not a decision rule of ``mdp``, or the horizon is below 1.

    Examples
    --------
    >>> from fractions import Fraction
    >>> import numpy as np
    >>> from proofs.core.numbers import Rationals
    >>> one = lambda n: Rationals.from_fractions([1] * n)
    >>> mdp = Mdp(("a", "b", "c"), np.array([0, 1, 2, 3]), ("go",), np.zeros(3, np.int32),
    ...           np.array([0, 1, 2, 3]), np.array([1, 1, 2]), one(3), {}, {},
    ...           np.array([0]), one(1))
    >>> table = reachable_table(mdp, Policy.stationary(PolicyLayer.deterministic(mdp, np.arange(3))), 5)
    >>> [table.layers[0].defined(s) for s in range(3)]
    [True, True, False]
    """
    if horizon is not None and horizon < 1:
        raise ValueError(f"a finite horizon must be at least 1, got {horizon}")
    made = _MADE.get(policy)
    if made is not None and made[0]() is mdp and made[1] == horizon:
        return policy  # already the canonical table for this model and horizon (it is a fixed point)
    layers = [_normalized(mdp, layer) for layer in policy.layers[: horizon or None]]
    blocks = [_restricted(layer, states) for layer, states in zip(layers, _reached_blocks(mdp, layers, horizon))]
    table = Policy(_merged(blocks))
    _MADE[table] = (weakref.ref(mdp), horizon)
    return table


# -- documents -------------------------------------------------------------------------------
def _table(mdp: Mdp, layer: PolicyLayer) -> dict[str, str | dict[str, str]]:
    """``{state: action}`` for a sure action, ``{state: {action: probability}}`` otherwise."""
    counts = np.diff(layer.start)
    states = np.flatnonzero(counts > 0)
    first = layer.start[states]
    sure = (counts[states] == 1) & (layer.probability.num[first] == layer.probability.den[first])
    actions = mdp.choice_action[layer.choice]
    table: dict[str, str | dict[str, str]] = dict(
        zip(_pick(mdp.states, states[sure]), _pick(mdp.action_names, actions[first[sure]]))
    )
    for s in states[~sure].tolist():
        lo, hi = int(layer.start[s]), int(layer.start[s + 1])
        table[mdp.states[s]] = {mdp.action_names[actions[i]]: layer.probability.canonical_text(i) for i in range(lo, hi)}
    return table


def _pick(names: tuple[str, ...], indices: npt.NDArray[np.integer]) -> tuple[str, ...]:
    """``names[i]`` for every i, at C speed."""
    if len(indices) == 0:
        return ()
    picked = operator.itemgetter(*indices.tolist())(names)
    return picked if len(indices) > 1 else (picked,)


def policy_document(mdp: Mdp, policy: Policy) -> dict[str, object]:
    """The ``proofs.policy/1`` document of ``policy``: ``"actions"`` if stationary, else ``"steps"``.

    Every defined state of every layer is written; zero-probability entries are left out and
    probabilities are canonical rational strings (``"1/3"``).
    """
    made = _MADE.get(policy)
    normal = made is not None and made[0]() is mdp  # tables from reachable_table are normalized
    tables = [_table(mdp, layer if normal else _normalized(mdp, layer)) for layer in policy.layers]
    if len(tables) == 1:
        return {"format": FORMAT, "actions": tables[0]}
    return {"format": FORMAT, "steps": tables}


def canonical_json(mdp: Mdp, policy: Policy, horizon: int | None) -> bytes:
    """The canonical bytes of the policy's behaviour (the document of its `reachable_table`).

    UTF-8 JSON with sorted keys and no whitespace. Extensionally equal policies (same
    behaviour on the states they reach within ``horizon``) give the same bytes.

    Raises
    ------
    UndefinedState
        If the policy reaches a state in which it has no action.
    """
    return table_bytes(policy_document(mdp, reachable_table(mdp, policy, horizon)))


INLINE_ENTRIES = 2048
"""A canonical table of at most this many entries (over all its steps) is a JSON document, written
inside the certificate; a larger one is `proofs.core.policy.encode_table` bytes, written beside it."""


@dataclass(frozen=True)
class CanonicalTable:
    """The bytes that identify a policy's behaviour (a certificate's ``table_sha256`` is their
    SHA-256), and the JSON document they encode when the table is small enough to show inline."""

    data: bytes
    document: dict[str, Any] | None


def canonical_table(mdp: Mdp, policy: Policy, horizon: int | None) -> CanonicalTable:
    """The policy's `reachable_table` as `CanonicalTable`: JSON up to `INLINE_ENTRIES` entries, else
    the binary table, so that a table of a million states is written and read in well under a
    second. Extensionally equal policies give the same bytes either way.

    Raises
    ------
    UndefinedState
        If the policy reaches a state in which it has no action.
    """
    table = reachable_table(mdp, policy, horizon)
    if sum(len(layer.choice) for layer in table.layers) <= INLINE_ENTRIES:
        document = policy_document(mdp, table)
        return CanonicalTable(table_bytes(document), document)
    return CanonicalTable(encode_table(mdp, table), None)


def policy_hash(mdp: Mdp, policy: Policy, horizon: int | None) -> str:
    """SHA-256 (hex) of the `canonical_table`'s bytes: the identity of the policy's behaviour.

    Raises
    ------
    UndefinedState
        If the policy reaches a state in which it has no action.
    """
    return hashlib.sha256(canonical_table(mdp, policy, horizon).data).hexdigest()


def write_policy_json(path: str | Path, mdp: Mdp, policy: Policy) -> None:
    """Write ``policy`` as a ``proofs.policy/1`` JSON file, atomically (temporary file + rename).

    The file holds every state the policy defines; pass ``reachable_table(mdp, policy, H)`` to
    write its behaviour only. Keys are sorted, so the output is deterministic.
    """
    text = json.dumps(policy_document(mdp, policy), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(Path(path), text.encode("utf-8"))

