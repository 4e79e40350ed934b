"""The one way to make an `Mdp` from what a reader found in a file.

TRUSTED (reading base). Readers either describe the model as plain data (`ModelData`: states in
order, each with its ordered actions and successor lists) and call `build_mdp`, or, for big
explicit files, hand over numpy arrays directly to `assemble_mdp`. Both end in `assemble_mdp`,
which runs `validate_mdp` and raises every problem at once, so no reader can skip a check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from proofs.core.errors import Location
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.worldmodel.validate import Locator, Problems, validate_mdp

__all__ = [
    "INIT_LABEL", "ChoiceData", "ModelData", "Probability", "StateData", "assemble_mdp", "build_mdp",
    "number_repeated",
]

Probability = Fraction | tuple[Fraction, Fraction]
INIT_LABEL = "init"
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ChoiceData:
    """One action of a state: its name, successors ``(state index, probability or (lo, hi))``."""

    action: str
    successors: tuple[tuple[int, Probability], ...]
    where: Location
    rewards: Mapping[str, Fraction] = field(default_factory=dict)
    successor_where: tuple[Location, ...] = ()


@dataclass(frozen=True)
class StateData:
    """One state: its name, ordered actions, state rewards (counted for each action) and labels."""

    name: str
    choices: tuple[ChoiceData, ...]
    where: Location
    rewards: Mapping[str, Fraction] = field(default_factory=dict)
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelData:
    """A whole model as plain data.

    Attributes
    ----------
    number_repeated_actions
        Name repeated action names of a state ``a``, ``a#2``, ``a#3``, … in order (SPEC §3: PRISM,
        DRN and explicit files, where a label may legitimately repeat); otherwise a repeat is an
        input error (hand-written TOML/JSON, where it is a typo).
    reward_names, label_names
        Names in the order they should appear; names used but not listed are added in order of
        use, unless the list was declared in the file (`declared_rewards`, `declared_labels`), in
        which case a use of an unlisted name is an input error.
    initial
        ``(state index, probability)`` pairs; ``None`` means uniform over the states labelled
        ``init``.
    """

    source: str
    states: tuple[StateData, ...]
    initial: tuple[tuple[int, Fraction], ...] | None
    initial_where: Location
    reward_names: tuple[str, ...] = ()
    label_names: tuple[str, ...] = ()
    declared_rewards: bool = False
    declared_labels: bool = False
    number_repeated_actions: bool = False
    constants: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _PlainLocator:
    states: Sequence[Location]
    choices: Sequence[Location]
    transitions: Sequence[Location]
    initial_where: Location

    def state(self, state: int) -> Location:
        return self.states[state]

    def choice(self, choice: int) -> Location:
        return self.choices[choice]

    def transition(self, transition: int) -> Location:
        return self.transitions[transition]

    def initial(self) -> Location:
        return self.initial_where


def build_mdp(data: ModelData, problems: Problems | None = None) -> Mdp:
    """Validate plain model data and freeze it into an `Mdp`.

    Parameters
    ----------
    data
        The model as read from its file.
    problems
        Problems the reader already found (reported together with the model's own).

    Raises
    ------
    InputError, InputErrors
        Every problem of the file, each with its location.

    Examples
    --------
    >>> where = Location("m.toml")
    >>> s0 = StateData("s0", (ChoiceData("stay", ((0, Fraction(1)),), where),), where, labels=("init",))
    >>> mdp = build_mdp(ModelData("m.toml", (s0,), None, where))
    >>> mdp.states, mdp.local_actions(0), mdp.initial_distribution()
    (('s0',), ['stay'], [(0, Fraction(1, 1))])
    """
    problems = problems if problems is not None else Problems(data.source)
    rewards = _names(data, problems, "reward")
    labels = _names(data, problems, "label")
    choices = [c for s in data.states for c in s.choices]
    action_index: dict[str, int] = {}
    for c in choices:
        action_index.setdefault(c.action, len(action_index))
    credal = any(isinstance(p, tuple) for c in choices for _, p in c.successors)
    transitions = [(t, p) for c in choices for t, p in c.successors]
    probability, interval = _probabilities([p for _, p in transitions], credal)
    label_masks = {name: np.array([name in s.labels for s in data.states], dtype=bool) for name in labels}
    initial = data.initial if data.initial is not None else _uniform_over(label_masks.get(INIT_LABEL))
    where = _PlainLocator(
        [s.where for s in data.states],
        [c.where for c in choices],
        [
            c.successor_where[i] if c.successor_where else c.where
            for c in choices
            for i in range(len(c.successors))
        ],
        data.initial_where,
    )
    return assemble_mdp(
        source=data.source,
        states=tuple(s.name for s in data.states),
        choice_start=_offsets([len(s.choices) for s in data.states]),
        action_names=tuple(action_index),
        choice_action=np.array([action_index[c.action] for c in choices], np.int32),
        row_start=_offsets([len(c.successors) for c in choices]),
        target=np.array([t for t, _ in transitions], dtype=np.int64),
        probability=probability,
        interval=interval,
        rewards={name: _reward_vector(data.states, name) for name in rewards},
        labels=label_masks,
        initial_states=np.array([s for s, p in initial if p != 0], dtype=np.int64),
        initial_probability=Rationals.from_fractions([p for _, p in initial if p != 0]),
        where=where,
        problems=problems,
        number_repeated_actions=data.number_repeated_actions,
        constants=data.constants,
    )


def _names(data: ModelData, problems: Problems, kind: str) -> tuple[str, ...]:
    """Declared names plus (when not declared) the used ones in order; unknown uses are problems."""
    declared = data.reward_names if kind == "reward" else data.label_names
    strict = data.declared_rewards if kind == "reward" else data.declared_labels
    names = dict.fromkeys(declared)
    for s in data.states:
        used = [(n, s.where) for n in (s.rewards if kind == "reward" else s.labels)]
        if kind == "reward":
            used += [(n, c.where) for c in s.choices for n in c.rewards]
        for name, where in used:
            if name in names:
                continue
            if strict:
                listed = ", ".join(repr(n) for n in declared) or "none"
                problems.add(
                    f"unknown {kind}",
                    where,
                    f"{kind} {name!r} is not declared (declared: {listed})",
                    f"Add {name!r} to the top-level '{kind}s' list or correct the name",
                )
            else:
                names[name] = None
    return tuple(names)


def _probabilities(
    values: list[Probability], credal: bool
) -> tuple[Rationals | None, tuple[Rationals, Rationals] | None]:
    if not credal:
        return Rationals.from_fractions([p for p in values if not isinstance(p, tuple)]), None
    lo = [p[0] if isinstance(p, tuple) else p for p in values]
    hi = [p[1] if isinstance(p, tuple) else p for p in values]
    return None, (Rationals.from_fractions(lo), Rationals.from_fractions(hi))


def _uniform_over(mask: npt.NDArray[np.bool_] | None) -> tuple[tuple[int, Fraction], ...]:
    states = [] if mask is None else np.flatnonzero(mask).tolist()
    return tuple((s, Fraction(1, len(states))) for s in states)


def _offsets(counts: Sequence[int]) -> IntArray:
    return np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(np.array(counts, dtype=np.int64))])


def _reward_vector(states: Sequence[StateData], name: str) -> Rationals:
    return Rationals.from_fractions(
        [
            s.rewards.get(name, Fraction(0)) + c.rewards.get(name, Fraction(0))
            for s in states
            for c in s.choices
        ]
    )


def number_repeated(
    choice_start: IntArray, action_names: tuple[str, ...], choice_action: npt.NDArray[np.int32]
) -> tuple[tuple[str, ...], npt.NDArray[np.int32]]:
    """Rename the k-th repeat (k >= 2) of an action name within one state to ``name#k``.

    SPEC §3: several choices of one state may carry the same label (two ``[tick]`` commands of a
    PRISM program); they are named ``tick``, ``tick#2``, ``tick#3``, … in the file's order. A
    state whose names are distinct is untouched, so the common case costs one sort.

    >>> names, actions = number_repeated(np.array([0, 3, 4]), ("tick", "go"),
    ...                                  np.array([0, 1, 0, 0], dtype=np.int32))
    >>> [names[a] for a in actions]
    ['tick', 'go', 'tick#2', 'tick']
    """
    n_choices = len(choice_action)
    if n_choices < 2:
        return action_names, choice_action
    width = max(len(action_names), 1)
    state = np.repeat(np.arange(len(choice_start) - 1, dtype=np.int64), np.diff(choice_start))
    key = state * width + choice_action.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.ones(n_choices, dtype=bool)
    first[1:] = sorted_key[1:] != sorted_key[:-1]
    if first.all():
        return action_names, choice_action
    group_start = np.maximum.accumulate(np.where(first, np.arange(n_choices), 0))
    rank = np.empty(n_choices, dtype=np.int64)
    rank[order] = np.arange(n_choices) - group_start  # 0 for the first of its name in its state
    names = list(action_names)
    index = {name: i for i, name in enumerate(names)}
    renamed = choice_action.copy()
    for c in np.flatnonzero(rank > 0).tolist():
        name = f"{action_names[int(choice_action[c])]}#{int(rank[c]) + 1}"
        if name not in index:
            index[name] = len(names)
            names.append(name)
        renamed[c] = index[name]
    return tuple(names), renamed


def assemble_mdp(
    *,
    source: str,
    states: tuple[str, ...],
    choice_start: IntArray,
    action_names: tuple[str, ...],
    choice_action: npt.NDArray[np.int32],
    row_start: IntArray,
    target: IntArray,
    probability: Rationals | None,
    interval: tuple[Rationals, Rationals] | None,
    rewards: Mapping[str, Rationals],
    labels: Mapping[str, npt.NDArray[np.bool_]],
    initial_states: IntArray,
    initial_probability: Rationals,
    where: Locator,
    problems: Problems | None = None,
    number_repeated_actions: bool = False,
    constants: Mapping[str, str] | None = None,
) -> Mdp:
    """Validate model arrays (the fast path for big files) and freeze them into an `Mdp`.

    The arrays are the fields of `Mdp` (see there); rewards are per choice, already including
    state rewards and expected transition rewards. `where` maps states, choices and transitions
    back to the file for messages. Raises `InputError`/`InputErrors` with every problem found,
    including those already in `problems`. With `number_repeated_actions`, a state's repeated
    action names become ``a``, ``a#2``, … (`number_repeated_actions`).
    """
    if number_repeated_actions:
        action_names, choice_action = number_repeated(choice_start, action_names, choice_action)
    mdp = Mdp(
        states=states,
        choice_start=choice_start,
        action_names=action_names,
        choice_action=choice_action,
        row_start=row_start,
        target=target,
        probability=probability,
        interval=interval,
        rewards=MappingProxyType(dict(rewards)),
        labels=MappingProxyType(dict(labels)),
        initial_states=initial_states,
        initial_probability=initial_probability,
        source=source,
        constants=MappingProxyType(dict(constants or {})),
    )
    problems = problems if problems is not None else Problems(source)
    validate_mdp(mdp, where, problems)
    problems.raise_if_any()
    numbers = [probability, *(interval or ()), *rewards.values(), initial_probability]
    exact = [a for r in numbers if r is not None for a in (r.num, r.den)]
    for array in (choice_start, choice_action, row_start, target, initial_states, *labels.values(), *exact):
        array.flags.writeable = False
    return mdp
