"""DRN files: Storm's own examples, exported models with rewards, compared with stormpy."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.core.model import Mdp
from proofs.worldmodel.load import load_mdp

from .helpers import MODELS, only_error, write


def stormpy_files() -> Path:
    stormpy = pytest.importorskip("stormpy")
    return Path(stormpy.__file__).parent / "examples" / "files"


def assert_same_as_storm(ours: Mdp, theirs: Any) -> None:
    assert (ours.n_states, ours.n_choices, ours.n_transitions) == (
        theirs.nr_states,
        theirs.nr_choices,
        theirs.nr_transitions,
    )
    for s in range(theirs.nr_states):
        assert set(ours.labels_of(s)) == set(theirs.labeling.get_labels_of_state(s))
    assert ours.initial_states.tolist() == [int(s) for s in theirs.initial_states]
    matrix = theirs.transition_matrix
    for c in range(theirs.nr_choices):
        row = {e.column: str(e.value) for e in matrix.get_row(c)}
        mine = {t: (lo, hi) for t, lo, hi in ours.successor_intervals(c)}
        assert set(row) == set(mine)
        for t, text in row.items():
            if text.startswith("["):
                lo, hi = (Fraction(x.strip()) for x in text.strip("[]").split(","))
            else:
                lo = hi = Fraction(text)
            assert mine[t] == (lo, hi)


def test_interval_mdp_example_matches_stormpy() -> None:
    stormpy = pytest.importorskip("stormpy")
    path = stormpy_files() / "imdp" / "tiny-01.drn"
    ours = load_mdp(path)
    assert ours.is_credal
    assert ours.successor_intervals(0) == [
        (1, Fraction(2, 5), Fraction(9, 10)),
        (2, Fraction(1, 2), Fraction(4, 5)),
    ]
    assert_same_as_storm(ours, stormpy.build_model_from_drn[stormpy.RationalInterval](str(path)))


def test_exported_model_with_rewards_and_action_names_matches_stormpy() -> None:
    stormpy = pytest.importorskip("stormpy")
    path = MODELS / "rewards.drn"
    ours = load_mdp(path)
    theirs = stormpy.build_model_from_drn[stormpy.Rational](str(path))
    assert_same_as_storm(ours, theirs)
    assert ours.local_actions(0) == ["go", "stay"] and ours.local_actions(1) == ["0", "1"]  # __NOLABEL__
    assert list(ours.rewards) == ["time", "cost"] == sorted(theirs.reward_models, key=["time", "cost"].index)
    matrix = theirs.transition_matrix
    for name, values in ours.rewards.items():
        model = theirs.reward_models[name]
        for s in range(theirs.nr_states):
            for c in range(matrix.get_row_group_start(s), matrix.get_row_group_end(s)):
                expected = Fraction(0)
                if model.has_state_rewards:
                    expected += Fraction(str(model.state_rewards[s]))
                if model.has_state_action_rewards:
                    expected += Fraction(str(model.state_action_rewards[c]))
                assert values[c] == expected


def test_storm_mdp_examples_read_like_stormpy(tmp_path: Path) -> None:
    stormpy = pytest.importorskip("stormpy")
    program = stormpy.parse_prism_program(str(stormpy_files() / "mdp" / "two_dice.nm"))
    built = stormpy.build_model[stormpy.Rational](program, options=stormpy.BuilderOptions(build_full=True))
    target = tmp_path / "two_dice.drn"
    stormpy.io.export_to_drn(built, str(target))
    assert_same_as_storm(load_mdp(target), stormpy.build_model_from_drn[stormpy.Rational](str(target)))


HEADER = "@type: MDP\n@parameters\n\n@reward_models\n\n@nr_states\n2\n@nr_choices\n2\n@model\n"


def test_drn_sum_error_names_the_action_line(tmp_path: Path) -> None:
    text = HEADER + "state 0 init\n\taction a\n\t\t1 : 0.5\n\t\t0 : 0.25\nstate 1\n\taction b\n\t\t1 : 1\n"
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.drn", text)))
    assert "m.drn:12:" in str(error) and "sum to 3/4" in str(error)


def test_drn_unknown_successor_names_its_line(tmp_path: Path) -> None:
    text = HEADER + "state 0 init\n\taction a\n\t\t7 : 1\nstate 1\n\taction b\n\t\t1 : 1\n"
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.drn", text)))
    assert "m.drn:13:" in str(error) and "successor state 7 does not exist" in str(error)


def test_drn_state_count_must_match_the_header(tmp_path: Path) -> None:
    text = HEADER + "state 0 init\n\taction a\n\t\t0 : 1\n"
    message = str(pytest.raises(InputErrors, load_mdp, write(tmp_path / "m.drn", text)).value)
    assert "m.drn:7:@nr_states" in message and "declares 2, the file has 1" in message  # with the header's line


def test_drn_parametric_and_other_types_are_rejected(tmp_path: Path) -> None:
    text = HEADER.replace("@parameters\n\n", "@parameters\np q\n")
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "p.drn", text)))
    assert "p.drn:3:" in str(error) and "parametric" in str(error)
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "c.drn", "@type: CTMC\n")))
    assert "c.drn:1:" in str(error) and "'CTMC' is not supported" in str(error)


def test_drn_quoted_labels_placeholders_and_dtmc(tmp_path: Path) -> None:
    text = (
        "@type: DTMC\n@parameters\n\n@placeholders\n$half : 1/2\n"
        "@reward_models\ncost\n@nr_states\n1\n@model\n"
        'state 0 [2] init "two words"\n\taction 0\n\t\t0 : $half\n\t\t0 : 1/2\n'
    )
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.drn", text)))
    assert "m.drn:14:" in str(error) and "listed twice" in str(error)
    one = text.replace("$half : 1/2", "$one : 2/2").replace("\t\t0 : $half\n\t\t0 : 1/2\n", "\t\t0 : $one\n")
    mdp = load_mdp(write(tmp_path / "m.drn", one))
    assert mdp.successors(0) == [(0, Fraction(1))]
    assert mdp.labels_of(0) == ["init", "two words"] and mdp.rewards["cost"].fractions() == [2]
