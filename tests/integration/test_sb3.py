"""`proofs.integrations.sb3.CertifyCallback` on real Stable-Baselines3 training (FrozenLake, CPU, seed 0).

The gap the callback logs is compared with an independent exact evaluation of the same greedy
policy: backward induction in Fractions over Gymnasium's own transition table ``P``, with the
agent's actions read by a second callback at the same moments. The certificates it saves must
pass `proofs check`.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure

import proofs
from proofs.integrations.sb3 import STATUS_CODES, CertifyCallback

HORIZON = 20
J = proofs.Objective("reward", horizon=HORIZON)


@pytest.fixture(autouse=True)
def one_torch_thread() -> Any:
    """Tiny networks train fastest on one thread (and the test suite shares the machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Snapshots(BaseCallback):
    """The agent's greedy action on every observation, on CertifyCallback's schedule."""

    def __init__(self, every: int, n_states: int) -> None:
        super().__init__()
        self.every, self.n_states = every, n_states
        self.taken: list[tuple[int, list[int]]] = []

    def _take(self) -> None:
        actions, _ = self.model.predict(np.arange(self.n_states), deterministic=True)
        self.taken.append((self.num_timesteps, [int(a) for a in actions]))

    def _on_step(self) -> bool:
        if self.n_calls % self.every == 0:
            self._take()
        return True

    def _on_training_end(self) -> None:
        self._take()


def exact_values(env: Any, actions: list[int] | None) -> Fraction:
    """J over HORIZON steps from Gymnasium's table ``P`` (each float read as the simplest fraction
    near it): of the policy ``actions`` (one per state), or of an optimal policy (``None``)."""
    table, start = env.unwrapped.P, env.unwrapped.initial_state_distrib
    near = (lambda x: Fraction(float(x)).limit_denominator(10**6))

    def q(state: int, action: int, value: dict[int, Fraction]) -> Fraction:
        return sum((near(p) * (near(r) + (0 if done else value[nxt])) for p, nxt, r, done in table[state][action]),
                   Fraction(0))

    value = {s: Fraction(0) for s in table}
    for _ in range(HORIZON):
        value = {s: q(s, actions[s], value) if actions is not None else max(q(s, a, value) for a in table[s])
                 for s in table}
    return sum((near(p) * value[s] for s, p in enumerate(start)), Fraction(0))


def logged_rows(folder: Path) -> list[dict[str, str]]:
    """The rows of progress.csv that hold a check (SB3's own rows leave proofs/ empty)."""
    with (folder / "progress.csv").open(newline="") as f:
        return [row for row in csv.DictReader(f) if row.get("proofs/gap_hi")]


def assert_checks(certificate: Path, cwd: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "proofs", "check", str(certificate)], cwd=cwd,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert proofs.check(certificate).accepted


def test_the_logged_gap_is_the_greedy_policys_gap(tmp_path: Path) -> None:
    lake = proofs.from_gym("FrozenLake-v1", is_slippery=True)
    lake.save(tmp_path / "lake.json")
    every = 500
    certify = CertifyCallback(lake, J, "1/100", every=every, save_path=tmp_path / "lake-policy.json")
    snapshots = Snapshots(every, lake.n_states)
    env = gymnasium.make("FrozenLake-v1", is_slippery=True)
    agent = DQN("MlpPolicy", env, seed=0, device="cpu", learning_starts=200, exploration_fraction=0.5,
                target_update_interval=250, learning_rate=1e-3)
    agent.set_logger(configure(str(tmp_path / "log"), ["csv"]))
    agent.learn(4000, callback=CallbackList([certify, snapshots]))

    rows = logged_rows(tmp_path / "log")
    assert len(rows) == len(certify.history) >= 4000 // every
    j_star = exact_values(env, None)
    assert proofs.evaluate(lake, J, None).j_star.value == j_star
    # the last row and the last snapshot of each timestep are the same moment's
    logged = {int(row["time/total_timesteps"]): row for row in rows}
    seen = {t: actions for t, actions in snapshots.taken}
    assert set(logged) <= set(seen)
    gaps = set()
    for t, row in logged.items():
        j_policy = exact_values(env, seen[t])
        gap = j_star - j_policy
        gaps.add(gap)
        assert float(row["proofs/gap_lo"]) == float(row["proofs/gap_hi"]) == float(gap), t
        assert float(row["proofs/j_policy"]) == float(j_policy) and float(row["proofs/j_star"]) == float(j_star)
        proved = gap <= Fraction(1, 100)
        assert float(row["proofs/status"]) == STATUS_CODES["proved" if proved else "refuted"]
        assert float(row["proofs/certified"]) == (1.0 if proved else 0.0)
    assert len(gaps) > 1, "training should change the greedy policy's gap"

    final = certify.last_result
    assert final is not None and certify.history[-1] == (agent.num_timesteps, final)
    independent = proofs.Policy.from_q_table(lake, np.eye(4)[snapshots.taken[-1][1]])
    assert proofs.evaluate(lake, J, independent).gap == final.gap
    assert certify.saved == tmp_path / "lake-policy.json"
    assert_checks(certify.saved, tmp_path)


def test_stops_once_certified_and_saves_the_safety_certificate(tmp_path: Path) -> None:
    lake = proofs.from_gym("FrozenLake-v1", is_slippery=False)
    lake.save(tmp_path / "lake.json")
    alignment = proofs.prove_alignment(lake, J, epsilon="1/100", desirable=['P<=1/100 [ F "hole" ]'])
    assert alignment.proved
    certify = CertifyCallback(lake, J, Fraction(1, 100), every=512, alignment=alignment, stop_when_certified=True,
                              save_path=tmp_path / "lake-safe.json")
    agent = PPO("MlpPolicy", gymnasium.make("FrozenLake-v1", is_slippery=False), seed=0, device="cpu",
                n_steps=256, batch_size=64, n_epochs=4)
    agent.set_logger(configure(str(tmp_path / "log"), ["csv"]))
    budget = 20_000
    agent.learn(budget, callback=certify)

    assert certify.certified and agent.num_timesteps < budget
    assert certify.last_safety is not None and certify.last_safety.proved
    assert [t for t, r in certify.history if r.proved] == [agent.num_timesteps]
    last = logged_rows(tmp_path / "log")[-1]
    assert (last["proofs/certified"], last["proofs/safety_status"], last["proofs/gap_hi"]) == ("1.0", "1.0", "0.0")
    assert certify.saved == tmp_path / "lake-safe.json"
    assert proofs.check(certify.saved).status is proofs.Status.PROVED
    assert_checks(certify.saved, tmp_path)


def test_mistakes_are_reported_before_training(tmp_path: Path) -> None:
    lake = proofs.from_gym("FrozenLake-v1", is_slippery=False)
    with pytest.raises(ValueError, match=r"save it first"):
        CertifyCallback(lake, J, "1/100", save_path=tmp_path / "cert.json")
    with pytest.raises(TypeError, match="exact"):
        CertifyCallback(lake, J, 0.01)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="every"):
        CertifyCallback(lake, J, "1/100", every=0)
    lake.save(tmp_path / "lake.json")
    with pytest.raises(ValueError, match=r"\*\.json"):
        CertifyCallback(lake, J, "1/100", save_path=tmp_path / "cert.txt")
    hack = proofs.prove_alignment(lake, J, epsilon="1/100", desirable=['P<=0 [ F "goal" ]'])
    with pytest.raises(ValueError, match="not proved"):
        CertifyCallback(lake, J, "1/100", alignment=hack)
    safe = proofs.prove_alignment(lake, J, epsilon="1/100", desirable=['P<=1/100 [ F "hole" ]'])
    with pytest.raises(ValueError, match="larger than the alignment"):
        CertifyCallback(lake, J, "1/10", alignment=safe)
    with pytest.raises(ValueError, match="same objective"):
        CertifyCallback(lake, proofs.Objective("reward", horizon=10), "1/100", alignment=safe)
    with pytest.raises(ValueError, match="another world model"):
        CertifyCallback(proofs.from_gym("FrozenLake-v1", is_slippery=True), J, "1/100", alignment=safe)
    cart = PPO("MlpPolicy", gymnasium.make("CartPole-v1"), n_steps=64, batch_size=64, seed=0, device="cpu")
    with pytest.raises(TypeError, match="discrete observation"):
        cart.learn(64, callback=CertifyCallback(lake, J, "1/100"))
