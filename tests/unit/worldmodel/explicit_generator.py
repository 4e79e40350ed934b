"""Random big explicit MDPs (Storm dialect) for load-time tests and hand measurements.

Run as ``python tests/unit/worldmodel/explicit_generator.py N_STATES OUT.tra`` to write a model by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

__all__ = ["write_random_storm_model"]

ACTIONS = 4
SUCCESSORS = 3
SCALE = 10**6


def write_random_storm_model(path: Path, n_states: int, seed: int = 0) -> None:
    """Write ``path`` (.tra, Storm dialect) and its ``.lab``: 4 actions, 3 successors each.

    Probabilities are exact six-digit decimals such as ``0.123456`` that sum to exactly 1.
    State 0 is labelled ``init``, every 100th state ``goal``.
    """
    rng = np.random.default_rng(seed)
    n_choices = n_states * ACTIONS
    src = np.repeat(np.arange(n_states), ACTIONS * SUCCESSORS)
    act = np.tile(np.repeat(np.arange(ACTIONS), SUCCESSORS), n_states)
    start = rng.integers(0, n_states, size=n_choices)
    steps = rng.integers(1, max(2, n_states // 2), size=(n_choices, 2))
    tgt = np.stack([start, start + steps[:, 0], start + steps[:, 0] + steps[:, 1]], axis=1) % n_states
    tgt.sort(axis=1)  # distinct (the steps add up to less than n_states), listed in order as tools write them
    cuts = np.sort(rng.integers(1, SCALE, size=(n_choices, 2)), axis=1)
    cuts[:, 1] = np.maximum(cuts[:, 1], cuts[:, 0] + 1)
    prob = np.stack([cuts[:, 0], cuts[:, 1] - cuts[:, 0], SCALE - cuts[:, 1]], axis=1)
    rows = np.stack([src, act, tgt.ravel(), prob.ravel()], axis=1)
    with path.open("w") as out:
        out.write("mdp\n")
        for block in range(0, len(rows), 1 << 20):
            part = rows[block : block + (1 << 20)]
            out.write("".join(f"{s} {a} {t} {_decimal(p)}\n" for s, a, t, p in part.tolist()))
    labels = ["#DECLARATION", "init goal", "#END", "0 init"]
    labels += [f"{s} goal" for s in range(100, n_states, 100)]
    path.with_suffix(".lab").write_text("\n".join(labels) + "\n")


def _decimal(p: int) -> str:
    return "1" if p == SCALE else f"0.{p:06d}"


if __name__ == "__main__":
    write_random_storm_model(Path(sys.argv[2]), int(sys.argv[1]))
