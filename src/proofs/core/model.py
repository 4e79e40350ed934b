"""The world-model type: a finite MDP (or a credal MDP with interval probabilities), frozen.

TRUSTED (reading base). One compact representation serves every size: states and choices are
numpy CSR arrays (choices grouped by state, transitions grouped by choice) and every number is an
exact `Rationals` vector, so the exact view (`Fraction`s) and the fast view (floats, sound float
enclosures) are two reads of the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np
import numpy.typing as npt

from proofs.core.numbers import Rationals

__all__ = ["Mdp", "concat_ranges"]

IntArray = npt.NDArray[np.int64]


def concat_ranges(lo: IntArray, hi: IntArray) -> IntArray:
    """The concatenation of ``arange(lo[i], hi[i])`` over i, without a Python loop.

    With CSR offsets it lists, for example, the transitions of some choices:
    ``concat_ranges(mdp.row_start[choices], mdp.row_start[choices + 1])``.
    """
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
    result: IntArray = (np.arange(total, dtype=np.int64) + shift).astype(np.int64)
    return result
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Mdp:
    """A finite MDP: states, per state an ordered non-empty list of named actions (choices).

    Attributes
    ----------
    states
        State names, in index order.
    choice_start
        ``n_states + 1`` offsets: the choices of state ``s`` are ``choice_start[s]:choice_start[s+1]``.
    action_names, choice_action
        The distinct action names, and for every choice the index of its name.
    row_start, target
        ``n_choices + 1`` offsets into ``target``: the successors of choice ``c``.
    probability
        Exact transition probabilities (aligned with ``target``); ``None`` for a credal model.
    interval
        ``(lo, hi)`` exact probability bounds for a credal (interval) model, else ``None``.
    rewards
        Per reward structure, the exact reward r(s, a) of every choice (state rewards and expected
        transition rewards already folded in).
    labels
        Per label, a boolean mask over states.
    initial_states, initial_probability
        The initial distribution μ₀ (states with positive probability only).
    source
        The file the model was read from, for messages.
    constants
        A PRISM program's constants (name -> value text), for atoms such as ``t>=deadline``;
        empty for other formats.
    """

    states: tuple[str, ...]
    choice_start: IntArray
    action_names: tuple[str, ...]
    choice_action: npt.NDArray[np.int32]
    row_start: IntArray
    target: IntArray
    probability: Rationals | None
    rewards: Mapping[str, Rationals]
    labels: Mapping[str, BoolArray]
    initial_states: IntArray
    initial_probability: Rationals
    interval: tuple[Rationals, Rationals] | None = None
    source: str | None = field(default=None)
    constants: Mapping[str, str] = field(default_factory=dict)

    # -- sizes -------------------------------------------------------------------------------
    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_choices(self) -> int:
        return int(self.choice_start[-1])

    @property
    def n_transitions(self) -> int:
        return int(self.row_start[-1])

    @property
    def is_credal(self) -> bool:
        return self.interval is not None

    # -- derived indices (cached) ------------------------------------------------------------
    @cached_property
    def state_index(self) -> Mapping[str, int]:
        return {name: i for i, name in enumerate(self.states)}

    @cached_property
    def choice_state(self) -> IntArray:
        """For every choice, the state it belongs to."""
        return np.repeat(np.arange(self.n_states, dtype=np.int64), np.diff(self.choice_start))

    @cached_property
    def transition_choice(self) -> IntArray:
        """For every transition, the choice it belongs to."""
        return np.repeat(np.arange(self.n_choices, dtype=np.int64), np.diff(self.row_start))

    @cached_property
    def float_probability(self) -> npt.NDArray[np.float64]:
        """Approximate probabilities for untrusted search (credal: the interval midpoints)."""
        if self.probability is not None:
            return self.probability.floats()
        assert self.interval is not None
        return (self.interval[0].floats() + self.interval[1].floats()) / 2

    # -- per-state and per-choice views ------------------------------------------------------
    def choices(self, state: int) -> range:
        return range(int(self.choice_start[state]), int(self.choice_start[state + 1]))

    def action(self, choice: int) -> str:
        return self.action_names[int(self.choice_action[choice])]

    def local_actions(self, state: int) -> list[str]:
        return [self.action(c) for c in self.choices(state)]

    def choice_of(self, state: int, action: str) -> int | None:
        for c in self.choices(state):
            if self.action(c) == action:
                return c
        return None

    def successors(self, choice: int) -> list[tuple[int, Fraction]]:
        """Exact ``(target, probability)`` pairs of a choice of a non-credal model."""
        if self.probability is None:
            raise ValueError("a credal model has interval probabilities; use successor_intervals")
        lo, hi = int(self.row_start[choice]), int(self.row_start[choice + 1])
        return [(int(self.target[i]), self.probability[i]) for i in range(lo, hi)]

    def successor_intervals(self, choice: int) -> list[tuple[int, Fraction, Fraction]]:
        lo, hi = int(self.row_start[choice]), int(self.row_start[choice + 1])
        if self.interval is None:
            assert self.probability is not None
            return [(int(self.target[i]), self.probability[i], self.probability[i]) for i in range(lo, hi)]
        low, high = self.interval
        return [(int(self.target[i]), low[i], high[i]) for i in range(lo, hi)]

    def label_mask(self, name: str) -> BoolArray:
        return self.labels[name]

    def labels_of(self, state: int) -> list[str]:
        return [name for name, mask in self.labels.items() if mask[state]]

    def initial_distribution(self) -> list[tuple[int, Fraction]]:
        return [(int(s), self.initial_probability[i]) for i, s in enumerate(self.initial_states)]
