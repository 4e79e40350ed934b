"""Resolving labels and reward names against a model; evaluating state formulas over its states."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.core.errors import Location
from proofs.core.formula import And, Label, Not, Or, StateFormula, Truth
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.objective import Objective
from proofs.spec.parse import parse_constraint
from proofs.spec.resolve import check_names, check_objective, state_mask

WHERE = Location("obligations/grid.toml", 12, 'lemma."grid.alignment".desirable[1]')
LABELS = {
    "goal": np.array([False, False, True, False]),
    "fatal": np.array([False, True, False, False]),
    "wet": np.array([True, True, False, False]),
}


def make_mdp() -> Mdp:
    n = 4
    ones = Rationals.from_fractions([1] * n)
    return Mdp(
        states=("s0", "s1", "s2", "s3"),
        choice_start=np.arange(n + 1),
        action_names=("stay",),
        choice_action=np.zeros(n, dtype=np.int32),
        row_start=np.arange(n + 1),
        target=np.arange(n),
        probability=ones,
        rewards={"progress": ones, "harm": Rationals.zeros(n)},
        labels={k: v.copy() for k, v in LABELS.items()},
        initial_states=np.array([0]),
        initial_probability=Rationals.from_fractions([1]),
        source="worldmodels/grid.toml",
    )


def test_known_names_give_no_error() -> None:
    mdp = make_mdp()
    for text in ['P<=0.1 [ "wet" U ("goal" | !"fatal") ]', 'R{"harm"}<=0 [ C<=3 ]', "P>=1 [ G true ]"]:
        assert check_names(parse_constraint(text, WHERE), mdp, WHERE) == []


def test_unknown_label_names_obligation_key_and_model_file() -> None:
    [err] = check_names(parse_constraint('P<=0.1 [ F "fatl" ]', WHERE), make_mdp(), WHERE)
    message = str(err)
    assert message.startswith('obligations/grid.toml:12:lemma."grid.alignment".desirable[1]: ')
    assert 'unknown label "fatl"' in message
    assert "worldmodels/grid.toml" in message
    assert '"fatal", "goal", "wet"' in message


def test_unknown_reward_structure_lists_the_available_ones() -> None:
    [err] = check_names(parse_constraint('R{"hurt"}<=0.1 [ C ]', WHERE), make_mdp(), WHERE)
    assert err.where == WHERE
    assert 'unknown reward structure "hurt"' in err.problem
    assert "worldmodels/grid.toml" in err.problem
    assert '"harm", "progress"' in err.problem


def test_every_unknown_label_is_reported() -> None:
    errors = check_names(parse_constraint('P>=0.5 [ "b" & "goal" U "a" ]', WHERE), make_mdp(), WHERE)
    assert ['"a"' in e.problem for e in errors] == [True, False]
    assert ['"b"' in e.problem for e in errors] == [False, True]


def test_objective_reward_must_exist() -> None:
    where = Location("obligations/grid.toml", 5, "objective.reward")
    assert check_objective(Objective("progress", 10), make_mdp(), where) == []
    [err] = check_objective(Objective("progres", 10), make_mdp(), where)
    assert str(err).startswith("obligations/grid.toml:5:objective.reward: ")
    assert "worldmodels/grid.toml" in err.problem and '"progress"' in err.problem


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        (Label("goal"), [False, False, True, False]),
        (Truth(True), [True, True, True, True]),
        (Truth(False), [False, False, False, False]),
        (Not(Label("wet")), [False, False, True, True]),
        (And(Label("wet"), Not(Label("fatal"))), [True, False, False, False]),
        (Or(Label("goal"), Label("fatal")), [False, True, True, False]),
    ],
)
def test_state_mask(formula: StateFormula, expected: list[bool]) -> None:
    mask = state_mask(make_mdp(), formula)
    assert mask.dtype == np.bool_
    assert mask.tolist() == expected


def test_state_mask_is_a_fresh_array() -> None:
    mdp = make_mdp()
    mask = state_mask(mdp, Label("goal"))
    mask[:] = True
    assert mdp.labels["goal"].tolist() == [False, False, True, False]


def test_state_mask_of_unknown_label_raises() -> None:
    with pytest.raises(KeyError, match="nope"):
        state_mask(make_mdp(), And(Truth(True), Label("nope")))


formulas = st.recursive(
    st.builds(Label, st.sampled_from(sorted(LABELS))) | st.builds(Truth, st.booleans()),
    lambda inner: st.builds(Not, inner) | st.builds(And, inner, inner) | st.builds(Or, inner, inner),
    max_leaves=10,
)


def holds(f: StateFormula, state: int) -> bool:
    """Reference semantics, one state at a time."""
    if isinstance(f, Label):
        return bool(LABELS[f.name][state])
    if isinstance(f, Truth):
        return f.value
    if isinstance(f, Not):
        return not holds(f.operand, state)
    if isinstance(f, And):
        return holds(f.left, state) and holds(f.right, state)
    return holds(f.left, state) or holds(f.right, state)


@settings(max_examples=150, deadline=None)
@given(formulas)
def test_state_mask_agrees_with_the_per_state_semantics(f: StateFormula) -> None:
    assert state_mask(make_mdp(), f).tolist() == [holds(f, s) for s in range(4)]
