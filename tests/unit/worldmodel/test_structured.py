"""TOML and JSON world models: exact numbers, schema, key paths in messages."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.worldmodel.load import load_mdp

from .helpers import MODELS, errors_of, only_error, signature, write

SMALL = """
initial = "s0"
{constants}
[states.s0.actions.go]
to = {{ s1 = {p1}, s0 = {p0} }}
[states.s1.actions.stay]
to = {{ s1 = "1" }}
"""


def test_small_toml_reads_states_actions_rewards_labels_in_order() -> None:
    mdp = load_mdp(MODELS / "small.toml")
    assert mdp.states == ("s0", "s1", "goal", "pit")
    assert mdp.local_actions(0) == ["right", "stay"]
    assert list(mdp.rewards) == ["progress", "harm"]
    assert list(mdp.labels) == ["start", "fatal", "goal"]
    assert mdp.initial_distribution() == [(0, Fraction(1))]
    right = mdp.choice_of(0, "right")
    assert right is not None
    assert mdp.successors(right) == [(1, Fraction(9, 10)), (3, Fraction(1, 10))]
    assert mdp.rewards["progress"][right] == Fraction(3, 2)
    assert mdp.rewards["harm"].fractions()[-1] == -1  # state reward of pit, counted for its action


def test_json_and_toml_of_the_same_model_agree() -> None:
    assert signature(load_mdp(MODELS / "small.json")) == signature(load_mdp(MODELS / "small.toml"))


@pytest.mark.parametrize("text", ['"0.1"', "0.1", '"1/10"', '"0.5 - 0.4"', "1e-1", '"1e-1"'])
def test_point_one_is_exactly_one_tenth(tmp_path: Path, text: str) -> None:
    mdp = load_mdp(write(tmp_path / "m.toml", SMALL.format(constants="", p1=text, p0='"9/10"')))
    assert mdp.successors(0)[0] == (1, Fraction(1, 10))


def test_json_float_literal_is_read_from_its_decimal_text(tmp_path: Path) -> None:
    doc = (
        '{"initial": "a", "states": {"a": {"actions": {"x": {"to": {"a": 0.1, "b": 0.9}}}}, '
        '"b": {"actions": {"x": {"to": {"b": 1}}}}}}'
    )
    mdp = load_mdp(write(tmp_path / "m.json", doc))
    assert mdp.successors(0) == [(0, Fraction(1, 10)), (1, Fraction(9, 10))]


def test_constants_may_refer_to_earlier_constants(tmp_path: Path) -> None:
    text = SMALL.format(constants='[constants]\np = "1/3"\nq = "1 - p"', p1='"q"', p0='"p"')
    mdp = load_mdp(write(tmp_path / "m.toml", text))
    assert [p for _, p in mdp.successors(0)] == [Fraction(2, 3), Fraction(1, 3)]


def test_constant_referring_to_a_later_constant_is_reported_at_its_key(tmp_path: Path) -> None:
    text = SMALL.format(constants='[constants]\np = "q"\nq = "1/3"', p1='"2/3"', p0='"1/3"')
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert "m.toml:4:constants.p" in str(error) and "unknown constant 'q'" in str(error)


def test_interval_makes_a_credal_model_with_points_as_degenerate_intervals() -> None:
    mdp = load_mdp(MODELS / "credal.toml")
    assert mdp.is_credal and mdp.probability is None
    assert mdp.successor_intervals(0) == [
        (1, Fraction(17, 20), Fraction(19, 20)),
        (0, Fraction(1, 20), Fraction(3, 20)),
    ]
    assert mdp.successor_intervals(1) == [(1, Fraction(1), Fraction(1))]
    assert mdp.initial_distribution() == [(0, Fraction(1, 2)), (1, Fraction(1, 2))]


def test_missing_initial_means_uniform_over_init_label(tmp_path: Path) -> None:
    text = SMALL.format(constants="", p1='"1/2"', p0='"1/2"').replace('initial = "s0"', "")
    text += '[states.s0]\nlabels = ["init"]\n'
    mdp = load_mdp(write(tmp_path / "m.toml", text))
    assert mdp.initial_distribution() == [(0, Fraction(1))]


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = 'initial = "s0"\n[states.s0.actions.go]\nto = { s0 = "1" \n'
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert error.where.line == 3 and "m.toml:3" in str(error) and "TOML syntax error" in str(error)


def test_duplicate_action_in_toml_is_a_syntax_error_with_its_line(tmp_path: Path) -> None:
    text = SMALL.format(constants="", p1='"1/2"', p0='"1/2"') + '[states.s0.actions.go]\nto = { s0 = "1" }\n'
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert error.where.line == 8 and "m.toml:8" in str(error)


def test_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.json", '{\n"states": {,}\n}')))
    assert "m.json:2" in str(error) and "JSON syntax error" in str(error)


def test_json_duplicate_state_and_action_names_are_reported_not_overwritten(tmp_path: Path) -> None:
    doc = (
        '{"initial": "a", "states": {"a": {"actions": {"y": {"to": {"a": "1"}}}},\n'
        '"b": {"actions": {"x": {"to": {"a": "1"}}, "x": {"to": {"a": "1"}}}},\n'
        '"a": {"actions": {"y": {"to": {"a": "1"}}}}}}'
    )
    errors = errors_of(pytest.raises(InputErrors, load_mdp, write(tmp_path / "m.json", doc)))
    text = [str(e) for e in errors]
    assert any("m.json:2:states.b.actions.x:" in t and "given twice" in t for t in text), text
    assert any("m.json:3:states.a:" in t and "given twice" in t for t in text), text


def test_unknown_keys_are_reported_with_their_path(tmp_path: Path) -> None:
    text = SMALL.format(constants="", p1='"1/2"', p0='"1/2"').replace(
        "[states.s0.actions.go]", "[states.s0.actions.go]\ntoo = 1"
    )
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert "m.toml:5:states.s0.actions.go.too" in str(error) and "unknown key 'too'" in str(error)


def test_key_paths_quote_names_that_are_not_bare_keys(tmp_path: Path) -> None:
    text = 'initial = "a b"\n[states."a b".actions.go]\nto = { "a b" = "1/2" }\n'
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.toml", text)))
    assert 'm.toml:3:states."a b".actions.go.to' in str(error) and "sum to 1/2" in str(error)


def test_boolean_is_not_a_number(tmp_path: Path) -> None:
    error = only_error(
        pytest.raises(
            InputError, load_mdp, write(tmp_path / "m.toml", SMALL.format(constants="", p1="true", p0='"1"'))
        )
    )
    assert "m.toml:5:states.s0.actions.go.to.s1" in str(error) and "expected a number, got a boolean" in str(
        error
    )


def test_probabilities_beyond_int64_stay_exact(tmp_path: Path) -> None:
    p = "0." + "1" * 40
    q = "0." + "8" * 39 + "9"
    mdp = load_mdp(write(tmp_path / "m.toml", SMALL.format(constants="", p1=p, p0=f'"{q}"')))
    assert mdp.probability is not None and not mdp.probability.is_compact
    assert [prob for _, prob in mdp.successors(0)] == [Fraction(p), Fraction(q)]
    with pytest.raises(InputError, match=r"sum to 9{40}/10{40}, not 1"):
        load_mdp(write(tmp_path / "m.toml", SMALL.format(constants="", p1=p, p0=f'"0.{"8" * 40}"')))
