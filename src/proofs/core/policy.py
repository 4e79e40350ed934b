"""The policy type: per step (or once, stationary) a distribution over each state's choices.

TRUSTED (reading base).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals

__all__ = ["PolicyLayer", "Policy"]

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
