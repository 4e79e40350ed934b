"""Canonical tables and hashes: equal behaviour, equal bytes; different behaviour, different hash."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from policy_worlds import build_mdp

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.policy import Policy, PolicyLayer
from proofs.policy.canonical import (
    UndefinedState,
    canonical_json,
    policy_hash,
    reachable_table,
    write_policy_json,
)
from proofs.policy.load import load_policy

FORMAT = "proofs.policy/1"
CODE = '''
def act(state, labels):
    return {"s0": "right", "s1": {"right": "0.5", "jump": 0.5}}.get(state, "stay")
'''


def write(tmp_path: Path, name: str, content: object) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


@pytest.fixture
def encodings(tmp_path) -> list[str]:
    """One behaviour (s0 right; s1 right or jump, 1/2 each; s2, pit stay) in many encodings."""
    return [
        write(tmp_path, "plain.json", {"format": FORMAT, "actions": {
            "s0": "right", "s1": {"right": "1/2", "jump": "1/2"}, "s2": "stay", "pit": "stay"}}),
        write(tmp_path, "extra.json", {"actions": {
            "far": "left", "pit": {"stay": 1}, "s2": "stay", "s1": {"jump": 0.5, "right": "0.5", "left": 0},
            "s0": {"right": "1.0"}}, "format": FORMAT}),
        write(tmp_path, "steps.json", {"format": FORMAT, "steps": [
            {"s0": "right"}, {"s1": {"right": "1/2", "jump": "1/2"}, "s0": "left"},
            {"s2": "stay", "pit": "stay"}]}),
        write(tmp_path, "table.csv", "state,action,probability\nfar,right,1\ns0,right,1\n"
                                     "s1,jump,0.5\ns1,right,1/2\ns2,stay,1\npit,stay,1\n"),
        write(tmp_path, "code.py", CODE) + ":act",
    ]


def hash_of(spec: str, mdp: Mdp, horizon: int | None) -> str:
    return policy_hash(mdp, load_policy(spec, mdp, allow_code=True, horizon=horizon), horizon)


def test_equal_behaviour_gives_identical_bytes_and_hash(encodings, corridor):
    policies = [load_policy(e, corridor, allow_code=True, horizon=3) for e in encodings]
    assert len({canonical_json(corridor, p, 3) for p in policies}) == 1
    assert len({policy_hash(corridor, p, 3) for p in policies}) == 1


def test_canonical_form_is_the_stationary_sorted_document(encodings, corridor):
    text = canonical_json(corridor, load_policy(encodings[0], corridor, horizon=3), 3)
    assert text == (b'{"actions":{"pit":"stay","s0":"right","s1":{"jump":"1/2","right":"1/2"},"s2":"stay"},'
                    b'"format":"proofs.policy/1"}')


def test_reachable_change_changes_the_hash(tmp_path, encodings, corridor):
    changed = write(tmp_path, "changed.json", {"format": FORMAT, "actions": {
        "s0": "right", "s1": {"right": "1/3", "jump": "2/3"}, "s2": "stay", "pit": "stay"}})
    assert hash_of(changed, corridor, 3) != hash_of(encodings[0], corridor, 3)


def test_unreachable_change_keeps_the_hash(tmp_path, encodings, corridor):
    changed = write(tmp_path, "changed.json", {"format": FORMAT, "actions": {
        "s0": "right", "s1": {"right": "1/2", "jump": "1/2"}, "s2": "stay", "pit": "stay", "far": "right"}})
    assert hash_of(changed, corridor, 3) == hash_of(encodings[0], corridor, 3)


def test_hash_depends_on_what_the_horizon_reaches(encodings, corridor):
    assert hash_of(encodings[0], corridor, 1) != hash_of(encodings[0], corridor, 3)
    assert hash_of(encodings[0], corridor, 3) == hash_of(encodings[0], corridor, None)


def test_per_step_policy_with_equal_layers_is_stationary(corridor):
    layer = PolicyLayer.deterministic(corridor, np.array([1, 3, 5, 6, 7]))  # right, right, stay, stay, left
    per_step = Policy((layer, layer, layer))
    stationary = Policy.stationary(layer)
    assert canonical_json(corridor, per_step, 4) == canonical_json(corridor, stationary, 4)
    assert reachable_table(corridor, per_step, 4).is_stationary


def test_genuinely_per_step_policy_keeps_its_steps(corridor):
    wait = PolicyLayer.deterministic(corridor, np.array([0, -1, -1, -1, -1]))  # s0: left (stay in s0)
    go = PolicyLayer.deterministic(corridor, np.array([1, 3, 5, -1, -1]))
    document = json.loads(canonical_json(corridor, Policy((wait, go)), 5))
    assert document == {"format": FORMAT, "steps": [{"s0": "left"}, {"s0": "right", "s1": "right", "s2": "stay"}]}
    # repeating the last layer explicitly changes nothing
    assert canonical_json(corridor, Policy((wait, go, go, go)), 5) == canonical_json(corridor, Policy((wait, go)), 5)


def test_layers_beyond_the_horizon_are_irrelevant(corridor):
    wait = PolicyLayer.deterministic(corridor, np.array([0, 2, 5, -1, -1]))  # s0: left keeps it in s0
    go = PolicyLayer.deterministic(corridor, np.array([1, 3, 5, -1, -1]))
    assert policy_hash(corridor, Policy((wait, wait, go)), 2) == policy_hash(corridor, Policy.stationary(wait), 2)
    assert policy_hash(corridor, Policy((wait, wait, go)), 3) != policy_hash(corridor, Policy.stationary(wait), 3)


def test_undefined_state_is_the_first_in_breadth_first_order(corridor):
    layer = PolicyLayer.deterministic(corridor, np.array([1, 4, -1, -1, -1]))  # s1 jumps to s2 and pit
    with pytest.raises(UndefinedState) as info:
        reachable_table(corridor, Policy.stationary(layer), None)
    assert (info.value.step, info.value.state, info.value.others) == (2, 2, 1)


def test_per_step_reachability_is_exact_per_step():
    # a ring 0 -> 1 -> 2 -> 0; a per-step policy only needs the state reached at each step
    mdp = build_mdp({str(i): {"go": {str((i + 1) % 3): 1}} for i in range(3)}, {"0": 1})
    layers = tuple(PolicyLayer.deterministic(mdp, np.where(np.arange(3) == t % 3, t % 3, -1)) for t in range(4))
    table = reachable_table(mdp, Policy(layers), 4)
    assert table.is_stationary  # every reached step plays "go": one table over states 0, 1, 2
    with pytest.raises(UndefinedState) as info:
        reachable_table(mdp, Policy(layers), 5)  # step 4 is in state 1, but layer 3 (repeating) defines only 0
    assert (info.value.step, info.value.state) == (4, 1)


def test_credal_models_reach_every_successor_with_positive_upper_bound():
    base = build_mdp({"a": {"go": {"b": "1/2", "c": "1/2"}}, "b": {"stay": {"b": 1}}, "c": {"stay": {"c": 1}}},
                     {"a": 1})
    lo = Rationals.from_fractions([Fraction(1, 2), 0, 1, 1])  # c has lower probability 0 ...
    hi = Rationals.from_fractions([1, Fraction(1, 2), 1, 1])  # ... but nature may choose 1/2
    credal = Mdp(base.states, base.choice_start, base.action_names, base.choice_action, base.row_start,
                 base.target, None, {}, {}, base.initial_states, base.initial_probability, interval=(lo, hi))
    layer = PolicyLayer.deterministic(credal, np.array([0, 1, -1]))
    with pytest.raises(UndefinedState) as info:
        reachable_table(credal, Policy.stationary(layer), None)
    assert info.value.state == 2


def test_malformed_layer_is_rejected(corridor):
    wrong_state = PolicyLayer.deterministic(corridor, np.array([2, 3, 5, -1, -1]))  # choice 2 belongs to s1
    with pytest.raises(ValueError, match="does not belong to its state"):
        reachable_table(corridor, Policy.stationary(wrong_state), 3)
    half = PolicyLayer.from_table(corridor, {0: [(1, Fraction(1, 2))]})
    with pytest.raises(ValueError, match="sum to exactly 1"):
        reachable_table(corridor, Policy.stationary(half), 3)


def test_write_policy_json_round_trips(tmp_path, encodings, corridor):
    policy = load_policy(encodings[1], corridor, horizon=3)
    out = tmp_path / "out.json"
    write_policy_json(out, corridor, policy)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []
    assert hash_of(str(out), corridor, 3) == policy_hash(corridor, policy, 3)
    assert json.loads(out.read_text())["format"] == FORMAT


def test_write_policy_json_per_step(tmp_path, corridor):
    wait = PolicyLayer.deterministic(corridor, np.array([0, -1, -1, -1, -1]))
    go = PolicyLayer.from_table(corridor, {0: [(1, Fraction(1))], 1: [(3, Fraction(1, 3)), (4, Fraction(2, 3))]})
    out = tmp_path / "steps.json"
    write_policy_json(out, corridor, Policy((wait, go)))
    assert json.loads(out.read_text()) == {"format": FORMAT, "steps": [
        {"s0": "left"}, {"s0": "right", "s1": {"right": "1/3", "jump": "2/3"}}]}


def test_large_deterministic_model_is_fast():
    # 200k states; action "a" walks a ring (a 200k-level corridor), "b" jumps at random
    n = 200_000
    ring = (np.arange(n) + 1) % n
    jump = np.random.default_rng(0).integers(0, n, n)
    mdp = Mdp(
        states=tuple(map(str, range(n))), choice_start=np.arange(0, 2 * n + 1, 2, dtype=np.int64),
        action_names=("a", "b"), choice_action=np.tile(np.array([0, 1], dtype=np.int32), n),
        row_start=np.arange(2 * n + 1, dtype=np.int64), target=np.stack([ring, jump], 1).ravel().astype(np.int64),
        probability=Rationals(np.ones(2 * n, np.int64), np.ones(2 * n, np.int64)), rewards={}, labels={},
        initial_states=np.array([0]), initial_probability=Rationals.from_fractions([1]))
    corridor = Policy.stationary(PolicyLayer.deterministic(mdp, np.arange(n, dtype=np.int64) * 2))
    assert int(np.diff(reachable_table(mdp, corridor, None).layers[0].start).sum()) == n
    assert int(np.diff(reachable_table(mdp, corridor, 1000).layers[0].start).sum()) == 1000
    jumping = Policy.stationary(PolicyLayer.deterministic(mdp, np.arange(n, dtype=np.int64) * 2 + 1))
    assert len(policy_hash(mdp, jumping, None)) == 64


# -- property: the hash changes exactly when the behaviour does ------------------------------
def _random_world(data: st.DataObject) -> Mdp:
    n = data.draw(st.integers(1, 5))
    names = [f"s{i}" for i in range(n)]
    spec: dict[str, dict[str, dict[str, Fraction]]] = {}
    for s in names:
        actions = data.draw(st.integers(1, 2))
        for k in range(actions):
            targets = data.draw(st.sets(st.sampled_from(names), min_size=1, max_size=2))
            spec.setdefault(s, {})[f"a{k}"] = {t: Fraction(1, len(targets)) for t in targets}
    return build_mdp(spec, {names[0]: 1})


def _relevant(mdp: Mdp, choices: list[list[int]], horizon: int | None) -> set[tuple[int, int]]:
    """(layer, state) pairs the behaviour depends on, by brute force over the steps."""
    layers = len(choices)
    steps = horizon if horizon is not None else layers + mdp.n_states + 1
    reached, relevant = {0}, set()
    for t in range(steps):
        k = min(t, layers - 1)
        relevant |= {(k, s) for s in reached}
        reached = {target for s in reached for target, p in mdp.successors(choices[k][s]) if p > 0}
    return relevant


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_hash_changes_exactly_when_a_relevant_decision_changes(data):
    mdp = _random_world(data)
    n_layers = data.draw(st.integers(1, 3))
    horizon = data.draw(st.one_of(st.none(), st.integers(1, 5)))
    choices = [[data.draw(st.sampled_from(list(mdp.choices(s)))) for s in range(mdp.n_states)]
               for _ in range(n_layers)]
    k, s = data.draw(st.integers(0, n_layers - 1)), data.draw(st.integers(0, mdp.n_states - 1))
    others = [c for c in mdp.choices(s) if c != choices[k][s]]
    assume(others)
    changed = [list(layer) for layer in choices]
    changed[k][s] = others[0]

    def policy(table: list[list[int]]) -> Policy:
        return Policy(tuple(PolicyLayer.deterministic(mdp, np.array(layer, dtype=np.int64)) for layer in table))

    same = policy_hash(mdp, policy(choices), horizon) == policy_hash(mdp, policy(changed), horizon)
    event("unchanged" if same else "changed")
    assert same == ((k, s) not in _relevant(mdp, choices, horizon))
