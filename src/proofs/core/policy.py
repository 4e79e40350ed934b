"""The policy type: per step (or once, stationary) a distribution over each state's choices.

TRUSTED (reading base).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals

__all__ = ["POLICY_FORMAT", "Policy", "PolicyLayer", "TableError", "policy_from_document", "table_bytes",
           "table_sha256"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class PolicyLayer:
    """A decision rule in CSR form over the model's states.

    The entries of state ``s`` are ``start[s]:start[s+1]``: global choice indices ``choice`` (each a
    choice of ``s``) with exact probabilities summing to 1. A state with no entries is undefined.
    """

    start: IntArray
    choice: IntArray
    probability: Rationals

    @classmethod
    def from_table(cls, mdp: Mdp, table: Mapping[int, Sequence[tuple[int, Fraction]]]) -> PolicyLayer:
        """Build from ``{state: [(choice, probability), ...]}`` (global choice indices)."""
        counts = np.zeros(mdp.n_states, dtype=np.int64)
        for s, dist in table.items():
            counts[s] = len(dist)
        start = np.zeros(mdp.n_states + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        choices: list[int] = []
        probs: list[Fraction] = []
        for s in sorted(table):
            for c, p in sorted(table[s]):
                choices.append(c)
                probs.append(p)
        return cls(start, np.array(choices, dtype=np.int64), Rationals.from_fractions(probs))

    @classmethod
    def deterministic(cls, mdp: Mdp, choice_of_state: IntArray) -> PolicyLayer:
        """Build from one global choice index per state (-1 where undefined)."""
        defined = choice_of_state >= 0
        start = np.zeros(mdp.n_states + 1, dtype=np.int64)
        np.cumsum(defined.astype(np.int64), out=start[1:])
        choice = choice_of_state[defined].astype(np.int64)
        n = len(choice)
        return cls(start, choice, Rationals(np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)))

    def defined(self, state: int) -> bool:
        return bool(self.start[state + 1] > self.start[state])

    def distribution(self, state: int) -> list[tuple[int, Fraction]]:
        lo, hi = int(self.start[state]), int(self.start[state + 1])
        return [(int(self.choice[i]), self.probability[i]) for i in range(lo, hi)]

    @property
    def is_deterministic(self) -> bool:
        return bool(np.all(np.diff(self.start) <= 1))


@dataclass(frozen=True, eq=False)
class Policy:
    """A Markov policy: ``layers[t]`` acts at step t; the last layer repeats (one layer = stationary)."""

    layers: tuple[PolicyLayer, ...]

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("a policy needs at least one layer")

    @classmethod
    def stationary(cls, layer: PolicyLayer) -> Policy:
        return cls((layer,))

    @property
    def is_stationary(self) -> bool:
        return len(self.layers) == 1

    def at(self, step: int) -> PolicyLayer:
        return self.layers[min(step, len(self.layers) - 1)]


# -- the canonical policy table: bytes and strict reading -------------------------------------
POLICY_FORMAT = "proofs.policy/1"


def table_bytes(document: Mapping[str, object]) -> bytes:
    """The canonical bytes of a ``proofs.policy/1`` document: UTF-8 JSON, sorted keys, no spaces.

    The SHA-256 of these bytes is the identity a certificate binds a policy's behaviour by.
    """
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def table_sha256(document: Mapping[str, object]) -> str:
    return hashlib.sha256(table_bytes(document)).hexdigest()


class TableError(ValueError):
    """A policy table that does not read over the model; the message names the place."""


def policy_from_document(mdp: Mdp, document: object) -> Policy:
    """The policy a ``proofs.policy/1`` document describes over ``mdp``, read strictly.

    ``{"format": ..., "actions": TABLE}`` (stationary) or ``{"format": ..., "steps": [TABLE, ...]}``
    (step t uses ``steps[t]``, the last one repeating). A TABLE maps state names to an action name
    (played surely) or to ``{action: probability}`` with exact positive probabilities summing to 1.
    Every name must be the model's; a state with no entry is undefined (the kernel then checks
    that the policy never reaches it).
    """
    if not isinstance(document, dict) or document.get("format") != POLICY_FORMAT or len(document) != 2:
        raise TableError(f"not a {POLICY_FORMAT} document with \"actions\" or \"steps\"")
    if "actions" in document:
        tables = [document["actions"]]
    elif isinstance(document.get("steps"), list) and document["steps"]:
        tables = document["steps"]
    else:
        raise TableError("expected \"actions\" or a non-empty list \"steps\"")
    key = mdp.choice_state * len(mdp.action_names) + mdp.choice_action
    order = np.argsort(key, kind="stable")
    action_index = {name: i for i, name in enumerate(mdp.action_names)}
    return Policy(tuple(_layer(mdp, table, f"steps[{t}]" if "steps" in document else "actions",
                               key[order], order, action_index) for t, table in enumerate(tables)))


_ONE = Fraction(1)


def _probability(text: str, where: str) -> Fraction:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise TableError(f"{where}: {text[:40]!r} is not an exact probability such as \"1/3\"") from None


def _layer(mdp: Mdp, table: object, where: str, sorted_key: IntArray, order: IntArray,
           action_index: Mapping[str, int]) -> PolicyLayer:
    if not isinstance(table, dict):
        raise TableError(f"{where}: expected an object mapping states to actions")
    states: list[int] = []
    actions: list[int] = []
    weights: list[Fraction] = []
    for name, entry in table.items():
        s = mdp.state_index.get(name)
        if s is None:
            raise TableError(f"{where}: {str(name)[:60]!r} is not a state of the model")
        pairs = [(entry, None)] if isinstance(entry, str) else list(entry.items()) if isinstance(entry, dict) else None
        if not pairs:
            raise TableError(f"{where}.{str(name)[:60]}: expected an action or {{action: probability}}")
        for action, p in pairs:
            if action not in action_index or not (p is None or isinstance(p, str) and len(p) <= 200):
                raise TableError(f"{where}.{str(name)[:60]}: {str(action)[:60]!r} with {str(p)[:40]!r}")
            states.append(s)
            actions.append(action_index[action])
            weights.append(_ONE if p is None else _probability(p, where))
    n_actions = len(mdp.action_names)
    wanted = np.array(states, dtype=np.int64) * n_actions + np.array(actions, dtype=np.int64)
    found = np.searchsorted(sorted_key, wanted)
    found = np.minimum(found, max(len(sorted_key) - 1, 0))
    if len(wanted) and (len(sorted_key) == 0 or np.any(sorted_key[found] != wanted)):
        bad = int(np.flatnonzero(len(sorted_key) == 0 or sorted_key[found] != wanted)[0])
        raise TableError(f"{where}: state {mdp.states[states[bad]]!r} has no action "
                         f"{mdp.action_names[actions[bad]]!r}")
    choice = order[found] if len(wanted) else np.zeros(0, dtype=np.int64)
    rank = np.lexsort((choice, np.array(states, dtype=np.int64)))
    owner = np.array(states, dtype=np.int64)[rank]
    start = np.zeros(mdp.n_states + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=mdp.n_states), out=start[1:])
    if all(w == 1 for w in weights):
        probability = Rationals(np.ones(len(rank), dtype=np.int64), np.ones(len(rank), dtype=np.int64))
    else:
        probability = Rationals.from_fractions([weights[i] for i in rank.tolist()])
    layer = PolicyLayer(start, choice[rank].astype(np.int64), probability)
    counts = np.diff(start)
    single = start[:-1][counts == 1]
    if np.any(probability.num[single] != probability.den[single]):
        s = int(np.flatnonzero(counts == 1)[np.flatnonzero(probability.num[single] != probability.den[single])[0]])
        raise TableError(f"{where}.{mdp.states[s][:60]}: a single action must have probability 1")
    for s in np.flatnonzero(counts > 1).tolist():
        dist = layer.distribution(s)
        if any(p <= 0 for _, p in dist) or sum(p for _, p in dist) != 1:
            raise TableError(f"{where}.{mdp.states[s][:60]}: probabilities must be positive and sum to 1")
    return layer
