"""Explicit .tra/.lab/.srew/.trew models in both dialects, reward naming rules, and big files."""

from __future__ import annotations

import shutil
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.worldmodel.load import load_mdp

from .explicit_generator import write_random_storm_model
from .helpers import MODELS, errors_of, only_error, signature, write

STORM_TRA = "mdp\n0 0 1 0.7\n0 0 2 0.3\n0 1 0 1\n1 0 1 1\n2 0 1 0.25\n2 0 3 0.75\n3 0 3 1\n"
STORM_LAB = "#DECLARATION\ninit goal\n#END\n0 init\n1 goal\n"


def storm_model(folder: Path, **rewards: str) -> Path:
    """The small Storm-dialect model in `folder`, with reward files given as name -> content."""
    for name, content in rewards.items():
        write(folder / name, content)
    write(folder / "m.lab", STORM_LAB)
    return write(folder / "m.tra", STORM_TRA)


def test_prism_and_storm_dialects_of_the_same_model_agree() -> None:
    prism = load_mdp(MODELS / "prism_dialect" / "model.tra")
    storm = load_mdp(MODELS / "storm_dialect" / "model.tra")
    assert signature(prism) == signature(storm)
    assert prism.states == ("0", "1", "2", "3")
    assert prism.local_actions(0) == ["0", "1"]
    assert {name: mask.tolist() for name, mask in prism.labels.items()} == {
        "init": [True, False, False, False],
        "deadlock": [False] * 4,
        "fatal": [False, False, True, False],
        "goal": [False, True, False, True],
    }
    assert prism.initial_distribution() == [(0, Fraction(1))]


def test_state_and_transition_rewards_are_summed_as_expectations() -> None:
    mdp = load_mdp(MODELS / "storm_dialect" / "model.tra")
    assert mdp.rewards["r"].fractions() == [1, 1, 0, Fraction(1, 2), 0]  # STEM.srew is "r"
    assert mdp.rewards["cost"].fractions() == [3, 0, 0, 3, 0]  # 0.3 * 10 and 0.75 * 4


def test_state_and_transition_rewards_of_one_name_form_one_structure(tmp_path: Path) -> None:
    mdp = load_mdp(storm_model(tmp_path, **{"m.c.srew": "0 2\n", "m.c.trew": "0 0 1 10\n"}))
    assert list(mdp.rewards) == ["c"]
    assert mdp.rewards["c"].fractions() == [2 + 7, 2, 0, 0, 0]


def test_leading_comment_overrides_the_reward_name(tmp_path: Path) -> None:
    mdp = load_mdp(storm_model(tmp_path, **{"m.srew": '# Reward structure "energy"\n0 2\n'}))
    assert list(mdp.rewards) == ["energy"]


def test_two_files_claiming_one_name_and_kind_are_an_error(tmp_path: Path) -> None:
    storm_model(tmp_path, **{"m.c.transrew": "0 0 1 1\n", "m.c.trew": "0 0 1 2\n"})
    error = only_error(pytest.raises(InputError, load_mdp, tmp_path / "m.tra"))
    assert (
        "m.c.trew" in str(error)
        and "transition rewards of structure 'c'" in str(error)
        and "m.c.transrew" in str(error)
    )


def test_comment_renaming_onto_an_existing_name_is_an_error(tmp_path: Path) -> None:
    storm_model(tmp_path, **{"m.srew": "0 1\n", "m.x.srew": '# Reward structure "r"\n0 2\n'})
    error = only_error(pytest.raises(InputError, load_mdp, tmp_path / "m.tra"))
    assert "state rewards of structure 'r'" in str(error)


def test_files_of_a_model_with_a_longer_stem_are_not_taken(tmp_path: Path) -> None:
    storm_model(tmp_path)
    write(tmp_path / "m.v2.tra", STORM_TRA)
    write(tmp_path / "m.v2.srew", "0 5\n")
    assert list(load_mdp(tmp_path / "m.tra").rewards) == []


def test_transition_reward_for_a_missing_transition_names_its_line(tmp_path: Path) -> None:
    error = only_error(
        pytest.raises(InputError, load_mdp, storm_model(tmp_path, **{"m.trew": "0 0 1 1\n0 0 3 1\n"}))
    )
    assert "m.trew:2:" in str(error) and "no transition from state 0, choice 0 to state 3" in str(error)


@pytest.mark.parametrize("longest", [3, 12])  # a scan per position, and sorted keys for long rows
@pytest.mark.parametrize("layout", ["every transition in order", "some, shuffled"])
def test_transition_rewards_are_found_whatever_their_order(tmp_path: Path, longest: int, layout: str) -> None:
    rng = np.random.default_rng(longest)
    n, rows, expected = 30, [], {}
    rewards = []
    for s in range(n):
        for c in range(int(rng.integers(1, 4))):
            targets = rng.choice(n, size=int(rng.integers(1, longest + 1)), replace=False)
            expected[s, c] = Fraction(0)
            for t in targets.tolist():
                rows.append(f"{s} {c} {t} {Fraction(1, len(targets))}")
                if layout == "every transition in order" or rng.random() < 0.5:
                    value = Fraction(int(rng.integers(0, 9)), 4)
                    rewards.append(f"{s} {c} {t} {value}")
                    expected[s, c] += value / len(targets)
    if layout != "every transition in order":
        rng.shuffle(rewards)
    write(tmp_path / "m.trew", "\n".join(rewards) + "\n")
    write(tmp_path / "m.lab", STORM_LAB)
    mdp = load_mdp(write(tmp_path / "m.tra", "mdp\n" + "\n".join(rows) + "\n"))
    assert mdp.rewards["r"].fractions() == list(expected.values())


def test_transition_reward_given_twice_is_an_error(tmp_path: Path) -> None:
    error = only_error(pytest.raises(InputError, load_mdp, storm_model(tmp_path, **{"m.trew": "0 0 2 1\n0 0 2 2\n"})))
    assert "m.trew:2:" in str(error) and "already has a reward" in str(error)


def test_state_reward_given_twice_is_an_error(tmp_path: Path) -> None:
    error = only_error(pytest.raises(InputError, load_mdp, storm_model(tmp_path, **{"m.srew": "0 1\n0 2\n"})))
    assert "m.srew:2:" in str(error) and "already has a reward" in str(error)


def test_prism_action_labels_name_the_actions(tmp_path: Path) -> None:
    write(tmp_path / "m.lab", '0="init"\n0: 0\n')
    mdp = load_mdp(write(tmp_path / "m.tra", "2 3 4\n0 0 1 0.5 go\n0 0 0 0.5 go\n0 1 0 1\n1 0 1 1 stay\n"))
    assert mdp.local_actions(0) == ["go", "1"] and mdp.local_actions(1) == ["stay"]


def test_prism_header_counts_are_checked(tmp_path: Path) -> None:
    write(tmp_path / "m.lab", '0="init"\n0: 0\n')
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.tra", "1 2 1\n0 0 0 1\n")))
    assert "m.tra:1:" in str(error) and "header declares 2 choices, the file has 1" in str(error)


def test_rows_out_of_order_name_their_line(tmp_path: Path) -> None:
    write(tmp_path / "m.lab", STORM_LAB)
    error = only_error(
        pytest.raises(InputError, load_mdp, write(tmp_path / "m.tra", "mdp\n1 0 1 1\n0 0 0 1\n"))
    )
    assert "m.tra:3:" in str(error) and "out of order" in str(error)


def test_malformed_rows_and_tokens_are_all_reported(tmp_path: Path) -> None:
    write(tmp_path / "m.lab", STORM_LAB)
    tra = "mdp\n0 0 0 1\n1 0 x 1\n2 0 2\n3 0 3 0.5.5\n"
    errors = errors_of(pytest.raises(InputErrors, load_mdp, write(tmp_path / "m.tra", tra)))
    text = "\n".join(str(e) for e in errors)
    assert "m.tra:3:" in text and "'x' is not a non-negative integer" in text
    assert "m.tra:4:" in text and "found 3 values" in text
    assert "m.tra:5:" in text and "'0.5.5' is not a number" in text


def test_comments_and_blank_lines_are_skipped_and_lines_still_counted(tmp_path: Path) -> None:
    write(tmp_path / "m.lab", STORM_LAB)
    tra = "# exported\nmdp\n\n0 0 0 0.5\n# note\n0 0 1 0.25\n1 0 1 1\n"
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.tra", tra)))
    assert "m.tra:4:" in str(error) and "sum to 3/4" in str(error)


def test_unusual_numbers_are_read_exactly(tmp_path: Path) -> None:
    write(tmp_path / "m.lab", STORM_LAB)
    tra = "mdp\n0 0 0 1/3\n0 0 1 2/3\n1 0 0 2.5e-1\n1 0 1 0.750000000000000000000000000001\n"
    with pytest.raises(
        InputError, match=r"sum to 1000000000000000000000000000001/1000000000000000000000000000000"
    ):
        load_mdp(write(tmp_path / "m.tra", tra))
    write(tmp_path / "m.tra", tra.replace("0.750000000000000000000000000001", "0.75"))
    mdp = load_mdp(tmp_path / "m.tra")
    assert mdp.probability is not None
    assert mdp.probability.fractions() == [Fraction(1, 3), Fraction(2, 3), Fraction(1, 4), Fraction(3, 4)]


def test_matches_stormpy_on_storm_example_files(tmp_path: Path) -> None:
    stormpy = pytest.importorskip("stormpy")
    files = Path(stormpy.__file__).parent / "examples" / "files"
    shutil.copy(files / "tra" / "mdp_general.tra", tmp_path / "g.tra")
    shutil.copy(files / "lab" / "mdp_general.lab", tmp_path / "g.lab")
    shutil.copy(files / "rew" / "mdp_general.state.rew", tmp_path / "g.srew")
    shutil.copy(files / "rew" / "mdp_general.trans.rew", tmp_path / "g.trew")
    ours = load_mdp(tmp_path / "g.tra")
    theirs = stormpy.build_model_from_explicit(
        str(tmp_path / "g.tra"),
        str(tmp_path / "g.lab"),
        state_rewards=str(tmp_path / "g.srew"),
        transition_rewards=str(tmp_path / "g.trew"),
    )
    assert (ours.n_states, ours.n_choices, ours.n_transitions) == (
        theirs.nr_states,
        theirs.nr_choices,
        theirs.nr_transitions,
    )
    for name, mask in ours.labels.items():
        assert set(np.flatnonzero(mask).tolist()) == {
            s for s in range(theirs.nr_states) if name in theirs.labeling.get_labels_of_state(s)
        }
    matrix = theirs.transition_matrix
    reward = theirs.reward_models[""]
    transition_rewards = reward.transition_rewards  # keep a reference: rows do not own the matrix
    for c in range(theirs.nr_choices):
        row = {e.column: Fraction(str(e.value)) for e in matrix.get_row(c)}
        assert dict(ours.successors(c)) == pytest.approx(row, abs=1e-12)
        state = int(ours.choice_state[c])
        expected = Fraction(str(reward.state_rewards[state])) + sum(
            (row[e.column] * Fraction(str(e.value)) for e in transition_rewards.get_row(c)), Fraction(0)
        )
        assert float(ours.rewards["r"][c]) == pytest.approx(float(expected), abs=1e-9)


def test_big_storm_model_loads_fast_and_exactly(tmp_path: Path) -> None:
    path = tmp_path / "big.tra"
    write_random_storm_model(path, 100_000, seed=1)
    start = time.perf_counter()
    mdp = load_mdp(path)
    seconds = time.perf_counter() - start
    assert (mdp.n_states, mdp.n_choices, mdp.n_transitions) == (100_000, 400_000, 1_200_000)
    assert mdp.probability is not None and mdp.probability.is_compact
    first = path.read_text().splitlines()[1].split()
    assert mdp.probability[0] == Fraction(first[3])
    assert int(mdp.target[0]) == int(first[2])
    assert mdp.initial_distribution() == [(0, Fraction(1))]
    assert int(mdp.labels["goal"].sum()) == 999
    assert seconds < 10, f"loading 1.2e6 transitions took {seconds:.1f} s"


def test_big_model_with_one_bad_row_names_it(tmp_path: Path) -> None:
    path = tmp_path / "big.tra"
    write_random_storm_model(path, 20_000, seed=2)
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[50_001].split()
    lines[50_001] = f"{fields[0]} {fields[1]} {fields[2]} 0.999999\n"
    path.write_text("".join(lines))
    error = only_error(pytest.raises(InputError, load_mdp, path))
    assert error.where.line in {50_000, 50_001, 50_002} and "not 1" in str(error)


def test_prism_reward_header_is_checked(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    shutil.copytree(MODELS / "prism_dialect", folder)
    write(folder / "model.srew", "5 2\n0 1\n2 0.5\n")
    error = only_error(pytest.raises(InputError, load_mdp, folder / "model.tra"))
    assert "model.srew:1:" in str(error) and "declares 5 states, the model has 4" in str(error)
    write(folder / "model.srew", "4 3\n0 1\n2 0.5\n")
    error = only_error(pytest.raises(InputError, load_mdp, folder / "model.tra"))
    assert "model.srew:1:" in str(error) and "declares 3 entries, the file has 2" in str(error)
