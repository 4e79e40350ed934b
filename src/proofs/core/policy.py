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

from proofs.core.model import Mdp, ModelFileError, narrowest, pack, rationals_from, rationals_parts, unpack
from proofs.core.numbers import Rationals, groups_sum_to_one

__all__ = ["POLICY_FORMAT", "TABLE_FORMAT", "Policy", "PolicyLayer", "TableError", "decode_table", "encode_table",
           "policy_from_document", "table_bytes", "table_sha256"]

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


# -- the canonical policy table in binary (large tables) ------------------------------------
TABLE_FORMAT = "proofs.table/1"
"""The first line of a binary canonical policy table (`encode_table`)."""


def encode_table(mdp: Mdp, policy: Policy) -> bytes:
    """The canonical bytes of a policy table over a canonical model, for tables too large for JSON.

    The container of `proofs.core.model.pack`: a header ``{"format", "states", "layers"}`` and per
    layer i the arrays ``i.count`` (entries per state), ``i.local`` (each entry's choice as its
    index among its state's choices) and the probabilities (numerators over their least common
    denominator, as the model stores its numbers). Canonical for a canonical table (entries
    sorted by choice, zero probabilities dropped: `proofs.policy.canonical.reachable_table`),
    so equal behaviours over one model give equal bytes.
    """
    arrays: list[tuple[str, np.ndarray]] = []
    layers: list[dict[str, object]] = []
    for i, layer in enumerate(policy.layers):
        counts = np.diff(layer.start)
        owner = np.repeat(np.arange(mdp.n_states, dtype=np.int64), counts)
        arrays += [(f"{i}.count", narrowest(counts)), (f"{i}.local", narrowest(layer.choice - mdp.choice_start[owner]))]
        entry, parts = rationals_parts(f"{i}.probability", layer.probability)
        layers.append(entry)
        arrays += parts
    return pack(TABLE_FORMAT, {"format": TABLE_FORMAT, "states": mdp.n_states, "layers": layers}, arrays)


def decode_table(mdp: Mdp, data: bytes) -> Policy:
    """The policy of `encode_table` bytes over ``mdp``, read strictly.

    Checked: the layout (`proofs.core.model.unpack`), one count per state of the model, every
    entry a choice of its state, each state's entries in increasing choice order, probabilities
    positive and summing to exactly 1 per defined state.

    Raises
    ------
    TableError
        Naming the layer and, where there is one, the state.
    """
    try:
        header, arrays = unpack(data, TABLE_FORMAT)
        if set(header) != {"format", "states", "layers", "arrays"} or header["states"] != mdp.n_states:
            raise TableError(f"the table is not one over the model's {mdp.n_states} states")
        layers = header["layers"]
        if not isinstance(layers, list) or not layers:
            raise TableError("the table has no layers")
        return Policy(tuple(_binary_layer(mdp, i, entry, arrays) for i, entry in enumerate(layers)))
    except ModelFileError as exc:
        raise TableError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError(f"a malformed {TABLE_FORMAT} file ({type(exc).__name__}: {str(exc)[:120]})") from None


def _binary_layer(mdp: Mdp, i: int, entry: dict[str, str], arrays: Mapping[str, np.ndarray]) -> PolicyLayer:
    where = f"layer {i}"
    if not isinstance(entry, dict) or entry.get("name") != f"{i}.probability":
        raise TableError(f"{where}: its probabilities are not named {i}.probability")
    counts = arrays[f"{i}.count"].astype(np.int64)
    local = arrays[f"{i}.local"].astype(np.int64)
    probability = rationals_from(entry, arrays)
    if len(counts) != mdp.n_states or np.any(counts < 0) or int(counts.sum()) != len(local):
        raise TableError(f"{where}: entry counts that do not match the model's states and the entries")
    if len(local) != len(probability):
        raise TableError(f"{where}: {len(local)} entries but {len(probability)} probabilities")
    start = np.zeros(mdp.n_states + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    owner = np.repeat(np.arange(mdp.n_states, dtype=np.int64), counts)
    bad = np.flatnonzero((local < 0) | (local >= np.diff(mdp.choice_start)[owner]))
    if len(bad):
        raise TableError(f"{where}: state {mdp.states[int(owner[bad[0]])]!r} has no choice number {int(local[bad[0]])}")
    later = np.flatnonzero((owner[1:] == owner[:-1]) & (local[1:] <= local[:-1]))
    if len(later):
        raise TableError(f"{where}: the choices of state {mdp.states[int(owner[later[0]])]!r} are not in increasing order")
    wrong = np.flatnonzero(probability.num <= 0)
    if len(wrong):
        raise TableError(f"{where}: state {mdp.states[int(owner[wrong[0]])]!r} has a probability that is not positive")
    defined = np.flatnonzero(counts > 0)
    sums = groups_sum_to_one(probability, start)
    unsummed = defined[~sums[defined]]
    if len(unsummed):
        raise TableError(f"{where}: the probabilities of state {mdp.states[int(unsummed[0])]!r} do not sum to 1")
    return PolicyLayer(start, mdp.choice_start[owner] + local, probability)
