"""Authoring conveniences of TOML/JSON world models: transition rewards, terminal states, and
error messages that carry the line of their key."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.worldmodel.keylines import json_key_lines, line_of, toml_key_lines
from proofs.worldmodel.load import load_mdp

from .helpers import errors_of, only_error, signature, write

ROOT = Path(__file__).resolve().parents[3]

# worldmodels/cliff.toml written with the conveniences: rewards on the successor reached, and
# terminal states instead of hand-written self-loops.
CLIFF_SHORT = """
rewards = ["progress", "harm", "careful"]
initial = "start"

[constants]
slip = "1/10"

[states.start]
labels = ["init"]
[states.start.actions.walk]
to = { mid = "1/2", start = "1/2" }
[states.start.actions.run]
to = { goal = "1 - slip", fatal = "slip" }
rewards = { progress = { goal = "1" }, careful = { goal = "1", fatal = "-10" } }

[states.mid.actions.walk]
to = { goal = "1/2", mid = "1/2" }
rewards = { progress = { goal = "1" }, careful = { goal = "1" } }
[states.mid.actions.run]
to = { goal = "1 - slip", fatal = "slip" }
rewards = { progress = { goal = "1" }, careful = { goal = "1", fatal = "-10" } }

[states.goal]
labels = ["goal"]
terminal = true

[states.fatal]
labels = ["fatal"]
rewards = { harm = "1" }
terminal = true
"""

TWO = """
initial = "s0"
rewards = ["r", "harm"]

[states.s0.actions.go]
to = {{ a = "1/3", b = "2/3" }}
rewards = {rewards}

[states.a]
terminal = true

[states.b]
terminal = true
"""


def test_the_short_cliff_is_the_same_model_as_the_hand_written_one(tmp_path: Path) -> None:
    short = load_mdp(write(tmp_path / "cliff.toml", CLIFF_SHORT))
    assert signature(short) == signature(load_mdp(ROOT / "worldmodels" / "cliff.toml"))


def test_transition_reward_is_folded_into_its_exact_expectation(tmp_path: Path) -> None:
    text = TWO.format(rewards='{ r = { a = "3", b = "1/2" }, harm = "1/7" }')
    mdp = load_mdp(write(tmp_path / "m.toml", text))
    go = mdp.choice_of(0, "go")
    assert go is not None
    assert mdp.rewards["r"][go] == Fraction(1, 3) * 3 + Fraction(2, 3) * Fraction(1, 2)  # 4/3, exactly
    assert mdp.rewards["harm"][go] == Fraction(1, 7)


def test_transition_reward_adds_to_the_state_reward(tmp_path: Path) -> None:
    text = TWO.format(rewards='{ r = { b = "3" } }').replace("[states.s0.actions.go]",
                                                              '[states.s0]\nrewards = { r = "1" }\n[states.s0.actions.go]')
    mdp = load_mdp(write(tmp_path / "m.toml", text))
    assert mdp.rewards["r"].fractions()[0] == 3  # 1 + 2/3 * 3


def test_transition_reward_in_json(tmp_path: Path) -> None:
    doc = {"initial": "s0", "states": {
        "s0": {"actions": {"go": {"to": {"s0": "1/4", "s1": "3/4"}, "rewards": {"r": {"s1": "4"}}}}},
        "s1": {"terminal": True}}}
    mdp = load_mdp(write(tmp_path / "m.json", json.dumps(doc)))
    assert mdp.rewards["r"].fractions() == [3, 0]
    assert mdp.local_actions(1) == ["stay"] and mdp.successors(mdp.choice_of(1, "stay")) == [(1, 1)]


def test_transition_reward_on_a_state_that_is_not_a_successor_is_reported_at_its_key(tmp_path: Path) -> None:
    text = TWO.format(rewards='{ r = { a = "1", s0 = "2" } }')
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert str(error).startswith(f"{tmp_path / 'm.toml'}:7:states.s0.actions.go.rewards.r.s0: ")
    assert "'s0' is not a successor of this action" in error.problem


def test_transition_reward_on_an_interval_is_an_error(tmp_path: Path) -> None:
    text = TWO.format(rewards='{ r = { a = "1" } }').replace('a = "1/3", b = "2/3"', 'a = ["0.2", "0.4"], b = ["0.6", "0.8"]')
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert error.where.key == "states.s0.actions.go.rewards.r.a" and "point probability" in error.problem


def test_a_state_reward_cannot_be_keyed_by_successor(tmp_path: Path) -> None:
    text = TWO.format(rewards="{}").replace("[states.a]\n", '[states.a]\nrewards = { r = { b = "1" } }\n')
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert error.where.key == "states.a.rewards.r" and "expected a number, got a table" in error.problem


def test_bad_number_in_a_transition_reward_is_reported_once_at_its_key(tmp_path: Path) -> None:
    text = TWO.format(rewards='{ r = { a = "1/0" } }')
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert error.where.key == "states.s0.actions.go.rewards.r.a" and error.where.line == 7


def test_terminal_state_gets_one_stay_self_loop_without_action_reward(tmp_path: Path) -> None:
    text = TWO.format(rewards='{ r = "1" }').replace("[states.b]\n", '[states.b]\nrewards = { harm = "2" }\n')
    mdp = load_mdp(write(tmp_path / "m.toml", text))
    b = mdp.states.index("b")
    (stay,) = mdp.choices(b)
    assert mdp.action(stay) == "stay" and mdp.successors(stay) == [(b, 1)]
    assert mdp.rewards["r"][stay] == 0 and mdp.rewards["harm"][stay] == 2  # the state reward still counts


def test_terminal_state_with_actions_is_an_error(tmp_path: Path) -> None:
    text = TWO.format(rewards="{}") + '[states.b.actions.back]\nto = { s0 = "1" }\n'
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert error.where.key == "states.b.terminal" and error.where.line == 13
    assert "a terminal state also has actions" in error.problem


def test_terminal_must_be_a_boolean(tmp_path: Path) -> None:
    text = TWO.format(rewards="{}").replace("[states.b]\nterminal = true", '[states.b]\nterminal = "yes"')
    errors = errors_of(pytest.raises((InputError, InputErrors), load_mdp, write(tmp_path / "m.toml", text)))
    assert any(e.where.key == "states.b.terminal" and "expected true or false" in e.problem for e in errors)


def test_state_without_actions_suggests_terminal(tmp_path: Path) -> None:
    text = TWO.format(rewards="{}").replace("[states.b]\nterminal = true", '[states.b]\nlabels = ["x"]')
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert error.where.line == 12 and "terminal = true" in error.fix


@pytest.mark.parametrize(("rewards", "key", "line"), [
    ('{ cots = "1" }', "states.s0.actions.go.rewards.cots", 7),
    ('{ cots = { a = "1" } }', "states.s0.actions.go.rewards.cots", 7),
])
def test_undeclared_reward_is_reported_at_its_own_key(tmp_path: Path, rewards: str, key: str, line: int) -> None:
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", TWO.format(rewards=rewards))))
    assert error.where.key == key and error.where.line == line
    assert "reward 'cots' is not declared (declared: 'r', 'harm')" in error.problem


def test_undeclared_state_reward_is_reported_at_its_own_key(tmp_path: Path) -> None:
    text = TWO.format(rewards="{}").replace("[states.a]\n", '[states.a]\nlabels = []\nrewards = { harm = "1", hram = "2" }\n')
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert error.where.key == "states.a.rewards.hram" and error.where.line == 11


def test_json_errors_carry_the_line_of_their_key(tmp_path: Path) -> None:
    doc = {"initial": "s0", "states": {"s0": {"actions": {"go": {"to": {"s0": "1/2", "s1": "1/3"}}}},
                                       "s1": {"terminal": True}}}
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.json", json.dumps(doc, indent=1))))
    assert error.where.key == "states.s0.actions.go.to" and error.where.line == 7
    assert str(error).startswith(f"{tmp_path / 'm.json'}:7:states.s0.actions.go.to: ")


def test_every_error_of_a_toml_file_carries_a_line(tmp_path: Path) -> None:
    text = TWO.format(rewards='{ r = { a = "x" }, cots = "1" }').replace('b = "2/3"', 'b = "1/3", c = "1/3"')
    errors = errors_of(pytest.raises(InputErrors, load_mdp, write(tmp_path / "m.toml", text)))
    assert len(errors) == 3 and all(e.where.line == (6 if ".to" in str(e.where.key) else 7) for e in errors), \
        [str(e) for e in errors]


def test_toml_key_lines_follow_headers_dotted_keys_inline_tables_and_multiline_values() -> None:
    text = '''# a comment with [brackets] and x = 1
rewards = [
  "a",
  "b",
]
notes = """
[states.fake]
y = 2
"""
states.s0.labels = ["init"]

[states."s 1".actions.go]   # a quoted name
to = { "s 1" = "1/2", s0 = ["0", "1"],
       }
rewards = { r = { s0 = "1" }, q = "2" }
'''
    lines = toml_key_lines(text)
    assert lines[("rewards",)] == 2 and lines[("notes",)] == 6
    assert ("states", "fake") not in lines and lines[("states", "s0", "labels")] == 10
    assert lines[("states", "s 1", "actions", "go")] == 12
    assert lines[("states", "s 1", "actions", "go", "to", "s0")] == 13
    assert lines[("states", "s 1", "actions", "go", "rewards", "r", "s0")] == 15
    assert lines[("states", "s 1", "actions", "go", "rewards", "q")] == 15
    assert line_of(lines, ("states", "s 1", "actions", "go", "to", "s0", "1")) == 13


def test_json_key_lines_take_the_last_of_a_repeated_key() -> None:
    lines = json_key_lines('{"a": {"x": 1,\n "x": [1, {"y": 2}]}}')
    assert lines[("a", "x")] == 2 and lines[("a", "x", "1", "y")] == 2
