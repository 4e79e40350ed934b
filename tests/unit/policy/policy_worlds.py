"""Tiny world models built directly through the `Mdp` dataclass (no file loader needed)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals

Spec = Mapping[str, Mapping[str, Mapping[str, Fraction | int | str]]]


def build_mdp(spec: Spec, initial: Mapping[str, Fraction | int | str],
              labels: Mapping[str, set[str]] | None = None) -> Mdp:
    """``spec[state][action][target] = probability``; states and actions in insertion order."""
    states = tuple(spec)
    index = {s: i for i, s in enumerate(states)}
    action_names = tuple(dict.fromkeys(a for acts in spec.values() for a in acts))
    choice_start, choice_action, row_start, target, probability = [0], [], [0], [], []
    for s in states:
        for a, dist in spec[s].items():
            choice_action.append(action_names.index(a))
            for t, p in dist.items():
                target.append(index[t])
                probability.append(Fraction(p))
            row_start.append(len(target))
        choice_start.append(len(choice_action))
    masks = {name: np.array([s in members for s in states]) for name, members in (labels or {}).items()}
    return Mdp(
        states=states,
        choice_start=np.array(choice_start, dtype=np.int64),
        action_names=action_names,
        choice_action=np.array(choice_action, dtype=np.int32),
        row_start=np.array(row_start, dtype=np.int64),
        target=np.array(target, dtype=np.int64),
        probability=Rationals.from_fractions(probability),
        rewards={},
        labels=masks,
        initial_states=np.array([index[s] for s in initial], dtype=np.int64),
        initial_probability=Rationals.from_fractions([Fraction(p) for p in initial.values()]),
        source="model.json",
    )
