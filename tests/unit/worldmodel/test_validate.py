"""One test per validation problem of SPEC §3: each message names the file, the place and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.worldmodel.load import load_mdp

from .helpers import errors_of, only_error, write

HEAD = 'initial = "s0"\n'


def toml_error(tmp_path: Path, text: str) -> str:
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert "m.toml:" in str(error)
    return str(error)


def explicit_error(tmp_path: Path, tra: str, lab: str = "#DECLARATION\ninit\n#END\n0 init\n") -> str:
    write(tmp_path / "m.lab", lab)
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.tra", tra)))
    return str(error)


def test_distribution_not_summing_to_one_says_the_exact_sum(tmp_path: Path) -> None:
    text = (
        HEAD
        + '[states.s0.actions.go]\nto = { s0 = "0.3", s1 = "0.6" }\n'
        + "[states.s1.actions.stay]\nto = { s1 = 1 }\n"
    )
    message = toml_error(tmp_path, text)
    assert "m.toml:3:states.s0.actions.go.to:" in message and "sum to 9/10, not 1" in message


def test_distribution_sum_in_explicit_file_names_the_line(tmp_path: Path) -> None:
    message = explicit_error(tmp_path, "mdp\n0 0 0 0.5\n0 0 1 0.4999\n1 0 1 1\n")
    assert "m.tra:2:" in message and "sum to 9999/10000, not 1" in message


def test_negative_probability(tmp_path: Path) -> None:
    text = (
        HEAD
        + '[states.s0.actions.go]\nto = { s0 = "1.5", s1 = "-0.5" }\n'
        + "[states.s1.actions.stay]\nto = { s1 = 1 }\n"
    )
    message = toml_error(tmp_path, text)
    assert "m.toml:3:states.s0.actions.go.to.s1:" in message and "-1/2" in message and "negative" in message


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf", '"NaN"', '"inf"'])
def test_non_finite_numbers_are_rejected(tmp_path: Path, literal: str) -> None:
    text = HEAD + f'[states.s0.actions.go]\nto = {{ s0 = "1" }}\nrewards = {{ r = {literal} }}\n'
    message = toml_error(tmp_path, text)
    assert "m.toml:4:states.s0.actions.go.rewards.r:" in message and "not a finite number" in message


def test_non_finite_number_in_json(tmp_path: Path) -> None:
    doc = '{"initial": "a", "states": {"a": {"rewards": {"r": NaN}, "actions": {"x": {"to": {"a": 1}}}}}}'
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.json", doc)))
    assert "m.json:1:states.a.rewards.r:" in str(error) and "NaN is not a finite number" in str(error)


def test_non_finite_number_in_explicit_file(tmp_path: Path) -> None:
    message = explicit_error(tmp_path, "mdp\n0 0 0 nan\n")
    assert "m.tra:2:" in message and "'nan' is not a finite number" in message


def test_negative_rewards_are_allowed(tmp_path: Path) -> None:
    mdp = load_mdp(
        write(
            tmp_path / "m.toml", HEAD + '[states.s0.actions.go]\nto = { s0 = "1" }\nrewards = { r = -2.5 }\n'
        )
    )
    assert mdp.rewards["r"].fractions() == [-2.5]


def test_unknown_successor_state(tmp_path: Path) -> None:
    message = toml_error(tmp_path, HEAD + '[states.s0.actions.go]\nto = { s0 = "0.5", s9 = "0.5" }\n')
    assert (
        "m.toml:3:states.s0.actions.go.to.s9:" in message and "successor state 's9' is not defined" in message
    )


def test_unknown_successor_in_explicit_file(tmp_path: Path) -> None:
    message = explicit_error(tmp_path, "2 2 2\n0 0 0 1\n1 0 5 1\n", lab='0="init"\n0: 0\n')
    assert "m.tra:3:" in message and "successor state 5 does not exist" in message


def test_state_without_actions(tmp_path: Path) -> None:
    message = toml_error(
        tmp_path, HEAD + '[states.s0.actions.go]\nto = { s1 = "1" }\n[states.s1]\nlabels = []\n'
    )
    assert "m.toml:4:states.s1:" in message and "state 's1' has no actions" in message


def test_state_without_actions_in_explicit_file(tmp_path: Path) -> None:
    message = explicit_error(tmp_path, "mdp\n0 0 2 1\n2 0 2 1\n")
    assert "m.tra:state 1:" in message and "state '1' has no actions" in message


def test_duplicate_action_names_in_one_state(tmp_path: Path) -> None:
    """A repeated label is numbered (SPEC §3); a name that then repeats is still an error."""
    text = "1 3 3\n0 0 0 1 go\n0 1 0 1 go\n0 2 0 1 go#2\n"
    message = explicit_error(tmp_path, text, lab='0="init"\n0: 0\n')
    assert "m.tra:4:" in message and "two actions named 'go#2'" in message


def test_duplicate_successor_in_explicit_file(tmp_path: Path) -> None:
    message = explicit_error(tmp_path, "mdp\n0 0 0 0.5\n0 0 0 0.5\n")
    assert "m.tra:3:" in message and "listed twice" in message


def test_duplicate_state_name_in_toml_is_reported_with_its_line(tmp_path: Path) -> None:
    text = HEAD + "[states.s0]\nlabels = []\n[states.s0]\nlabels = []\n"
    message = toml_error(tmp_path, text)
    assert "m.toml:4:" in message


def test_unknown_label_when_labels_are_declared(tmp_path: Path) -> None:
    text = (
        'labels = ["goal"]\n'
        + HEAD
        + '[states.s0]\nlabels = ["gaol"]\n[states.s0.actions.go]\nto = { s0 = "1" }\n'
    )
    message = toml_error(tmp_path, text)
    assert "m.toml:4:states.s0.labels:" in message and "label 'gaol' is not declared" in message


def test_unknown_label_in_lab_file(tmp_path: Path) -> None:
    message = explicit_error(tmp_path, "mdp\n0 0 0 1\n", lab="#DECLARATION\ninit\n#END\n0 init goal\n")
    assert "m.lab:4:" in message and "label 'goal' is not declared" in message


def test_unknown_reward_when_rewards_are_declared(tmp_path: Path) -> None:
    text = (
        'rewards = ["cost"]\n' + HEAD + '[states.s0.actions.go]\nto = { s0 = "1" }\nrewards = { cots = 1 }\n'
    )
    message = toml_error(tmp_path, text)
    assert "m.toml:5:states.s0.actions.go.rewards.cots:" in message and "reward 'cots' is not declared" in message


@pytest.mark.parametrize(
    ("bounds", "problem"),
    [
        ('s1 = ["0.5", "0.4"], s0 = ["0.5", "0.6"]', "is empty (lower > upper)"),
        ('s1 = ["-0.1", "0.9"], s0 = ["0.5", "0.6"]', "negative"),
        ('s1 = ["0.6", "0.9"], s0 = ["0.5", "0.6"]', "lower bounds summing to 11/10"),
        ('s1 = ["0.1", "0.3"], s0 = ["0.1", "0.6"]', "upper bounds summing to 9/10"),
    ],
)
def test_intervals_that_cannot_contain_a_distribution(tmp_path: Path, bounds: str, problem: str) -> None:
    text = (
        HEAD + f"[states.s0.actions.go]\nto = {{ {bounds} }}\n[states.s1.actions.stay]\nto = {{ s1 = 1 }}\n"
    )
    message = toml_error(tmp_path, text)
    assert "m.toml:3:states.s0.actions.go.to" in message and problem in message


def test_missing_initial_distribution(tmp_path: Path) -> None:
    message = toml_error(tmp_path, '[states.s0.actions.go]\nto = { s0 = "1" }\n')
    assert "m.toml:initial:" in message and "initial distribution is missing" in message


def test_empty_initial_distribution(tmp_path: Path) -> None:
    message = toml_error(tmp_path, 'initial = {}\n[states.s0.actions.go]\nto = { s0 = "1" }\n')
    assert "m.toml:1:initial:" in message and "missing or empty" in message


def test_initial_distribution_not_summing_to_one(tmp_path: Path) -> None:
    text = (
        'initial = { s0 = "0.5", s1 = "0.25" }\n[states.s0.actions.go]\nto = { s0 = "1" }\n'
        '[states.s1.actions.go]\nto = { s1 = "1" }\n'
    )
    message = toml_error(tmp_path, text)
    assert "m.toml:1:initial:" in message and "sum to 3/4, not 1" in message


def test_initial_state_that_does_not_exist(tmp_path: Path) -> None:
    message = toml_error(tmp_path, 'initial = "s7"\n[states.s0.actions.go]\nto = { s0 = "1" }\n')
    assert "m.toml:1:initial.s7:" in message and "not defined" in message


def test_explicit_model_without_init_label(tmp_path: Path) -> None:
    message = explicit_error(tmp_path, "mdp\n0 0 0 1\n", lab="#DECLARATION\ngoal\n#END\n0 goal\n")
    assert "m.lab:" in message and "initial distribution is missing" in message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        'labels = ["goal"]\ninitial = { s0 = "1/2" }\n'
        '[states.s0]\nlabels = ["start"]\n'
        '[states.s0.actions.go]\nto = { s0 = "0.5", s1 = "0.4", s9 = "0.1" }\nrewards = { r = nan }\n'
        '[states.s0.actions.back]\nto = { s0 = "-1", s1 = "2" }\n'
        "[states.s1]\nlabels = []\n"
    )
    errors = errors_of(pytest.raises(InputErrors, load_mdp, write(tmp_path / "m.toml", text)))
    messages = "\n".join(str(e) for e in errors)
    for expected in (
        "6:states.s0.actions.go.to.s9: successor state 's9' is not defined",
        "7:states.s0.actions.go.rewards.r: nan is not a finite number",
        "4:states.s0.labels: label 'start' is not declared",
        "10:states.s1: state 's1' has no actions",
        "9:states.s0.actions.back.to.s0: probability -1 of a successor",
        "2:initial: the initial probabilities sum to 1/2, not 1",
    ):
        assert expected in messages, messages
    assert all(str(e).startswith(str(tmp_path / "m.toml")) for e in errors)


def test_errors_beyond_the_limit_are_counted(tmp_path: Path) -> None:
    rows = "".join(f"{s} 0 {s} 0.5\n" for s in range(30))
    write(tmp_path / "m.lab", "#DECLARATION\ninit\n#END\n0 init\n")
    errors = errors_of(pytest.raises(InputErrors, load_mdp, write(tmp_path / "m.tra", "mdp\n" + rows)))
    assert len(errors) == 21 and "10 more problems of this kind" in str(errors[-1])


def test_a_repeated_successor_is_found_in_any_order_and_only_the_later_line_named(tmp_path: Path) -> None:
    tra = ("mdp\n0 0 2 0.5\n0 0 1 0.25\n0 0 3 0.25\n"  # decreasing, no repeat: fine
           "1 0 3 0.2\n1 0 0 0.3\n1 0 3 0.5\n"  # 3 again, two lines later
           "2 0 2 1\n3 0 3 1\n")
    message = explicit_error(tmp_path, tra)
    assert "m.tra:7:" in message and "successor '3' is listed twice" in message
