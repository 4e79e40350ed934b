"""Gymnasium toy-text environments as exact world-model documents."""

from __future__ import annotations

import json
import warnings
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs.core.errors import InputError, InputErrors
from proofs.worldmodel import gym as gym_import
from proofs.worldmodel.gym import (
    import_gym,
    parse_kwargs,
    simplest_between,
    simplest_rational,
    write_model_json,
)

pytest.importorskip("gymnasium")


def labelled(doc: dict[str, Any], label: str) -> set[str]:
    return {name for name, state in doc["states"].items() if label in state.get("labels", [])}


def distribution(doc: dict[str, Any], state: str, action: str) -> dict[str, Fraction]:
    return {t: Fraction(p) for t, p in doc["states"][state]["actions"][action]["to"].items()}


def reward(doc: dict[str, Any], state: str, action: str) -> Fraction:
    return Fraction(doc["states"][state]["actions"][action].get("rewards", {}).get("reward", "0"))


class FakeEnv:
    """An environment exposing only what the importer reads."""

    def __init__(self, table: dict[int, dict[int, list[tuple[float, int, float, bool]]]],
                 initial: list[float] | None) -> None:
        self.P = table
        if initial is not None:
            self.initial_state_distrib = np.array(initial)

    @property
    def unwrapped(self) -> FakeEnv:
        return self

    def close(self) -> None:
        pass


def fake(monkeypatch: pytest.MonkeyPatch, table: dict[int, dict[int, list[Any]]],
         initial: list[float] | None) -> None:
    monkeypatch.setattr(gym_import, "_make", lambda env_id, kwargs: FakeEnv(table, initial))


# -- simplest rationals ----------------------------------------------------------------------
def test_simplest_rational_recovers_the_intended_fractions():
    assert simplest_rational(1 / 3) == Fraction(1, 3)
    assert simplest_rational((1.0 - 1 / 3) / 2) == Fraction(1, 3)  # FrozenLake's fail rate
    assert simplest_rational((1.0 - 0.8) / 2) == Fraction(1, 10)  # 0.09999999999999998
    assert simplest_rational(0.1) == Fraction(1, 10)
    assert simplest_rational(1 / 300) == Fraction(1, 300)
    assert simplest_rational(1.0) == 1
    assert simplest_rational(5e-13) == 0
    assert simplest_rational(-0.25) == Fraction(-1, 4)


def test_simplest_rational_is_the_simplest_within_the_tolerance():
    x = 0.1 + 5e-13
    assert simplest_rational(x) == Fraction(1, 10)  # the simplest within 1e-12 ...
    assert Fraction(x).limit_denominator(10**12) != Fraction(1, 10)  # ... not the closest with a bounded denominator
    assert simplest_rational(0.1 + 2e-12) != Fraction(1, 10)  # beyond the tolerance


@given(st.integers(0, 1000), st.integers(1, 1000))
def test_simplest_rational_inverts_small_fractions(p, q):
    assert simplest_rational(p / q) == Fraction(p, q)


@given(st.fractions(-3, 3, max_denominator=40), st.fractions(0, 1, max_denominator=40))
def test_simplest_between_has_the_least_denominator(lo, width):
    hi = lo + width
    found = simplest_between(lo, hi)
    assert lo <= found <= hi
    for den in range(1, found.denominator):
        assert not any(lo <= Fraction(num, den) <= hi for num in range(int(lo * den) - 1, int(hi * den) + 2))


# -- real environments -----------------------------------------------------------------------
def test_frozen_lake_slippery_is_exact():
    doc = import_gym("FrozenLake-v1", {})
    assert len(doc["states"]) == 16 and doc["initial"] == "0"
    assert list(doc["states"]["0"]["actions"]) == ["0", "1", "2", "3"]
    assert distribution(doc, "0", "0") == {"0": Fraction(2, 3), "4": Fraction(1, 3)}  # merged successors
    assert distribution(doc, "6", "1") == {"5": Fraction(1, 3), "10": Fraction(1, 3), "7": Fraction(1, 3)}
    assert reward(doc, "14", "2") == Fraction(1, 3) and reward(doc, "14", "0") == 0


def test_frozen_lake_labels_and_absorbing_ends():
    doc = import_gym("FrozenLake-v1", {"is_slippery": False})
    assert labelled(doc, "hole") == {"5", "7", "11", "12"}
    assert labelled(doc, "goal") == {"15"}
    assert labelled(doc, "terminal") == {"5", "7", "11", "12", "15"}
    assert labelled(doc, "start") == {"0"}
    assert doc["labels"] == ["goal", "hole", "start", "terminal"] and doc["rewards"] == ["reward"]
    for action in "0123":
        assert distribution(doc, "15", action) == {"15": 1} and reward(doc, "15", action) == 0
    assert reward(doc, "14", "2") == 1


def test_frozen_lake_8x8_map_name():
    doc = import_gym("FrozenLake-v1", parse_kwargs(['map_name="8x8"']))
    assert len(doc["states"]) == 64 and labelled(doc, "goal") == {"63"}


def test_cliff_walking():
    doc = import_gym("CliffWalking-v1", {})
    assert len(doc["states"]) == 48 and doc["initial"] == "36"
    assert labelled(doc, "terminal") == {"47"} and labelled(doc, "start") == {"36"}
    assert distribution(doc, "36", "1") == {"36": 1} and reward(doc, "36", "1") == -100  # the cliff
    assert distribution(doc, "35", "2") == {"47": 1} and reward(doc, "35", "2") == -1


def test_taxi_sizes_and_uniform_start():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = import_gym("Taxi-v4", {})
    assert len(doc["states"]) == 500
    assert all(len(state["actions"]) == 6 for state in doc["states"].values())
    assert len(doc["initial"]) == 300 and set(doc["initial"].values()) == {"1/300"}
    assert len(labelled(doc, "terminal")) == 4  # passenger delivered at each of the 4 destinations
    assert not labelled(doc, "terminal") & labelled(doc, "start")


def test_taxi_rainy_probabilities():
    doc = import_gym("Taxi-v4", {"is_rainy": True})
    probabilities = {p for s in doc["states"].values() for a in s["actions"].values() for p in a["to"].values()}
    assert {"4/5", "1/10"} <= probabilities


def test_taxi_fickle_passenger_is_refused():
    with pytest.raises(InputError, match="fickle passenger"):
        import_gym("Taxi-v4", {"fickle_passenger": True})


def test_unknown_environment_is_an_input_error():
    with pytest.raises(InputError, match="gym:NoSuchEnv-v0: Gymnasium cannot make the environment"):
        import_gym("NoSuchEnv-v0", {})
    with pytest.raises(InputError, match="Gymnasium cannot make"):
        import_gym("FrozenLake-v1", {"no_such_keyword": 1})


# -- the mixed case and the sum check (fake environments) ------------------------------------
def test_state_entered_both_ways_gets_an_absorbing_copy(monkeypatch):
    fake(monkeypatch, {
        0: {0: [(1.0, 1, 0.0, False)], 1: [(0.5, 1, 1.0, True), (0.5, 0, 0.0, False)]},
        1: {0: [(1.0, 2, 2.0, False)], 1: [(1.0, 1, 0.0, False)]},
        2: {0: [(1.0, 2, 0.0, True)], 1: [(1.0, 2, 0.0, True)]},
    }, [1.0, 0.0, 0.0])
    doc = import_gym("Mixed-v0", {})
    assert list(doc["states"]) == ["0", "1", "2", "1!terminal", "2!terminal"]
    assert distribution(doc, "0", "1") == {"0": Fraction(1, 2), "1!terminal": Fraction(1, 2)}
    assert reward(doc, "0", "1") == Fraction(1, 2)
    assert distribution(doc, "1", "0") == {"2": 1}  # state 1 keeps its dynamics
    assert distribution(doc, "1!terminal", "0") == {"1!terminal": 1}
    # acting in 2 ends the episode in 2, and 2 is occupied before: it gets a copy too
    assert distribution(doc, "2", "0") == {"2!terminal": 1}
    assert labelled(doc, "terminal") == {"1!terminal", "2!terminal"}
    assert labelled(doc, "start") == {"0"}


def test_state_entered_only_by_ending_is_absorbing_in_place(monkeypatch):
    fake(monkeypatch, {
        0: {0: [(1.0, 1, -1.0, True)]},
        1: {0: [(1.0, 0, 5.0, False)]},  # never occupied by an episode: 1 is entered only by ending
    }, [1.0, 0.0])
    doc = import_gym("InPlace-v0", {})
    assert list(doc["states"]) == ["0", "1"]
    assert distribution(doc, "1", "0") == {"1": 1} and reward(doc, "1", "0") == 0


def test_initial_state_entered_by_ending_gets_a_copy(monkeypatch):
    fake(monkeypatch, {0: {0: [(1.0, 0, 0.0, True)]}}, [1.0])
    doc = import_gym("Loop-v0", {})
    assert list(doc["states"]) == ["0", "0!terminal"]
    assert labelled(doc, "start") == {"0"} and labelled(doc, "terminal") == {"0!terminal"}


def test_distribution_not_summing_to_one_fails_loudly(monkeypatch):
    fake(monkeypatch, {
        0: {0: [(0.5, 0, 0.0, False), (0.45, 1, 0.0, False)], 1: [(1.0, 1, 0.0, False)]},
        1: {0: [(0.7, 1, 0.0, False), (0.2, 0, 0.0, False)]},
    }, [1.0, 0.0])
    with pytest.raises(InputErrors) as info:
        import_gym("Broken-v0", {})
    text = str(info.value)
    assert "gym:Broken-v0:P[0][0]: state 0, action 0: the probabilities" in text
    assert "(1/2, 9/20), sum to 19/20, not exactly 1" in text
    assert "gym:Broken-v0:P[1][0]: state 1, action 0" in text and "sum to 9/10" in text


def test_unreadable_outcomes_are_input_errors(monkeypatch):
    fake(monkeypatch, {0: {0: [(1.0, 7, 0.0, False)]}}, [1.0])
    with pytest.raises(InputError, match=r"P\[0\]\[0\]: state 0, action 0: unreadable outcome \(successor 7"):
        import_gym("Bad-v0", {})
    fake(monkeypatch, {0: {0: [(float("nan"), 0, 0.0, False)]}}, [1.0])
    with pytest.raises(InputError, match="unreadable outcome"):
        import_gym("Bad-v0", {})


def test_environment_without_initial_distribution_is_refused(monkeypatch):
    fake(monkeypatch, {0: {0: [(1.0, 0, 0.0, False)]}}, None)
    with pytest.raises(InputError, match="exposes no initial_state_distrib"):
        import_gym("NoStart-v0", {})


def test_initial_distribution_must_sum_to_one(monkeypatch):
    fake(monkeypatch, {0: {0: [(1.0, 0, 0.0, False)]}, 1: {0: [(1.0, 1, 0.0, False)]}}, [0.5, 0.4])
    with pytest.raises(InputError, match="initial_state_distrib: the initial probabilities.*sum to 9/10"):
        import_gym("HalfStart-v0", {})


# -- keyword arguments and writing -----------------------------------------------------------
def test_parse_kwargs_reads_json_values():
    assert parse_kwargs(["is_slippery=false", 'map_name="4x4"', "name=plain", "desc=[\"SF\", \"HG\"]", "n=3"]) == {
        "is_slippery": False, "map_name": "4x4", "name": "plain", "desc": ["SF", "HG"], "n": 3}
    with pytest.raises(InputError, match="is not key=value"):
        parse_kwargs(["is_slippery"])
    with pytest.raises(InputError, match="given twice"):
        parse_kwargs(["a=1", "a=2"])


def test_write_model_json_is_atomic_and_deterministic(tmp_path):
    doc = import_gym("FrozenLake-v1", {})
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_model_json(doc, first)
    write_model_json(import_gym("FrozenLake-v1", {}), second)
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text()) == doc
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


# -- round trip through the JSON world-model reader ------------------------------------------
def test_round_trip_through_the_json_loader(tmp_path):
    load = pytest.importorskip("proofs.worldmodel.load")
    doc = import_gym("FrozenLake-v1", {})
    path = tmp_path / "frozen.json"
    write_model_json(doc, path)
    mdp = load.load_mdp(path)
    assert mdp.n_states == 16 and mdp.states[:2] == ("0", "1")
    assert mdp.local_actions(0) == ["0", "1", "2", "3"]
    assert set(mdp.labels) >= {"start", "terminal", "hole", "goal"}
    assert [mdp.states[s] for s in np.flatnonzero(mdp.labels["hole"])] == ["5", "7", "11", "12"]
    assert mdp.initial_distribution() == [(0, Fraction(1))]
    choice = mdp.choice_of(0, "0")
    assert sorted((mdp.states[t], p) for t, p in mdp.successors(choice)) == [("0", Fraction(2, 3)), ("4", Fraction(1, 3))]
    rewards = mdp.rewards["reward"]
    assert rewards[mdp.choice_of(14, "2")] == Fraction(1, 3)


def test_q_table_over_an_imported_model(tmp_path):
    load = pytest.importorskip("proofs.worldmodel.load")
    from proofs.policy.canonical import policy_hash
    from proofs.policy.load import load_policy

    path = tmp_path / "frozen.json"
    write_model_json(import_gym("FrozenLake-v1", {"is_slippery": False}), path)
    mdp = load.load_mdp(path)
    q = np.zeros((16, 4))
    q[[0, 4, 8, 9, 13, 14], [1, 1, 2, 1, 2, 2]] = 1.0  # down, down, right, down, right, right
    np.save(tmp_path / "q.npy", q)
    policy = load_policy(tmp_path / "q.npy", mdp, horizon=6)
    table = tmp_path / "table.csv"
    table.write_text("0,1\n4,1\n8,2\n9,1\n13,2\n14,2\n15,0\n3,3\n")
    assert policy_hash(mdp, policy, 6) == policy_hash(mdp, load_policy(table, mdp, horizon=6), 6)
