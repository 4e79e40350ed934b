"""Train the FrozenLake 8x8 policies of the gallery with tabular Q-learning, reproducibly.

Plain numpy, no network, a fixed seed: running it again writes the same bytes. It simulates
the world model ``worldmodels/frozenlake8x8.json`` (imported from Gymnasium by
``proofs import gym FrozenLake-v1 --kw map_name=8x8``) exactly as the file says, so the
policies are trained on the very model their lemmas are proved on.

Q-learning, episodic: every episode starts in a state drawn uniformly from the states that are
not terminal (exploring starts, so the far side of the lake is learnt too), acts uniformly at
random (Q-learning learns the greedy policy off-policy) and ends in a hole, at the goal, or after
`HORIZON` steps. The update is ``Q[s, a] += alpha * (r + GAMMA * max Q[s'] - Q[s, a])`` with
``alpha = 1 / n(s, a) ** 0.6``, and ``max Q[s'] = 0`` after a terminating step. The written policy
is greedy in Q, ties going to the lowest action index (as for `.npy` Q-tables).

Two runs from the same seed: `LONG_EPISODES` (the policy is within 1/100 of the best score:
``frozenlake.q-long-policy`` is proved) and `SHORT_EPISODES` (trained too briefly:
``frozenlake.q-short-policy`` is refuted).

Usage: ``python scripts/train_q.py [--out policies]``
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "worldmodels" / "frozenlake8x8.json"
SEED = 13
HORIZON = 40
GAMMA = 0.95
LONG_EPISODES = 60_000
SHORT_EPISODES = 1_500
OUTPUTS = {"frozenlake-q-long.csv": LONG_EPISODES, "frozenlake-q-short.csv": SHORT_EPISODES}


class Lake:
    """The world model as arrays: per (state, action) its successors, their cumulative
    probabilities and the expected reward; which states end an episode."""

    def __init__(self, path: Path) -> None:
        document = json.loads(path.read_text(encoding="utf-8"))
        self.states = list(document["states"])
        index = {name: i for i, name in enumerate(self.states)}
        self.actions = [list(state["actions"]) for state in document["states"].values()]
        self.successors: list[list[list[int]]] = []
        self.cumulative: list[list[list[float]]] = []
        self.reward: list[list[float]] = []
        for state in document["states"].values():
            targets, cumulative, rewards = [], [], []
            for action in state["actions"].values():
                probabilities = [Fraction(p) for p in action["to"].values()]
                targets.append([index[t] for t in action["to"]])
                cumulative.append([float(sum(probabilities[: k + 1])) for k in range(len(probabilities))])
                rewards.append(float(Fraction(action.get("rewards", {}).get("reward", "0"))))
            self.successors.append(targets)
            self.cumulative.append(cumulative)
            self.reward.append(rewards)
        self.terminal = ["terminal" in state.get("labels", []) for state in document["states"].values()]

    def step(self, s: int, a: int, u: float) -> int:
        """The successor of ``s`` under ``a`` for the uniform draw ``u``."""
        for target, c in zip(self.successors[s][a], self.cumulative[s][a]):
            if u < c:
                return target
        return self.successors[s][a][-1]


def train(lake: Lake, episodes: int, seed: int = SEED) -> np.ndarray:
    """Q after ``episodes`` episodes of Q-learning (module docstring)."""
    rng = np.random.default_rng(seed)
    n, m = len(lake.states), len(lake.actions[0])
    q = np.zeros((n, m))
    visits = np.zeros((n, m))
    live = [s for s in range(n) if not lake.terminal[s]]
    starts = rng.choice(live, size=episodes).tolist()
    for start in starts:
        actions = rng.integers(0, m, size=HORIZON).tolist()
        draws = rng.random(HORIZON).tolist()
        s = start
        for a, u in zip(actions, draws):
            t = lake.step(s, a, u)
            visits[s, a] += 1
            future = 0.0 if lake.terminal[t] else GAMMA * q[t].max()
            q[s, a] += (lake.reward[s][a] + future - q[s, a]) / visits[s, a] ** 0.6
            if lake.terminal[t]:
                break
            s = t
    return q


def policy_csv(lake: Lake, q: np.ndarray) -> str:
    """The greedy policy of ``q`` as a `state,action` CSV (docs/policies.md)."""
    rows = ["state,action"]
    for s, name in enumerate(lake.states):
        rows.append(f"{name},{lake.actions[s][int(np.argmax(q[s]))]}")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "policies", help="folder for the CSV files")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    lake = Lake(MODEL)
    for name, episodes in OUTPUTS.items():
        (out / name).write_text(policy_csv(lake, train(lake, episodes)), encoding="utf-8")
        print(f"wrote {out / name} ({episodes} episodes)")


if __name__ == "__main__":
    main()
