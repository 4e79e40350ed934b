"""PRISM-language models through stormpy: valuations as state names, labels, rewards, exactness."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest

from proofs.core.errors import InputError
from proofs.worldmodel.load import load_mdp

from .helpers import MODELS, only_error, write

pytest.importorskip("stormpy")


def test_small_program_states_actions_rewards_and_labels() -> None:
    mdp = load_mdp(MODELS / "small.nm")
    assert mdp.states[:3] == ("g=false,z=0,b=false,a=0", "g=false,z=1,b=false,a=0", "g=false,z=2,b=true,a=0")
    assert mdp.n_states == 8 and mdp.n_choices == 14
    assert mdp.local_actions(0) == ["go", "stay"] and mdp.local_actions(1) == ["0", "1"]
    assert mdp.successors(0) == [(1, Fraction(1, 10)), (2, Fraction(9, 10))]  # exact, from "p = 0.1"
    assert mdp.rewards["cost"].fractions()[:3] == [2, 0, Fraction(1, 3)]
    assert mdp.rewards["time"].fractions() == [1] * 14
    assert mdp.labels["hit"].tolist() == [False, True, False, False, True, False, True, False]
    assert mdp.initial_distribution() == [(0, Fraction(1))]


def test_same_model_as_its_drn_export() -> None:
    prism, drn = load_mdp(MODELS / "small.nm"), load_mdp(MODELS / "rewards.drn")
    assert [prism.successors(c) for c in range(prism.n_choices)] == [
        drn.successors(c) for c in range(drn.n_choices)
    ]
    assert {k: v.fractions() for k, v in prism.rewards.items()} == {
        k: v.fractions() for k, v in drn.rewards.items()
    }


def test_interval_updates_make_a_credal_model() -> None:
    stormpy = pytest.importorskip("stormpy")
    mdp = load_mdp(Path(stormpy.__file__).parent / "examples" / "files" / "idtmc" / "die-intervals.pm")
    assert mdp.is_credal and mdp.states[0] == "s=0,d=0"
    assert mdp.successor_intervals(0) == [
        (1, Fraction(1, 3), Fraction(2, 3)),
        (2, Fraction(1, 3), Fraction(2, 3)),
    ]


def test_an_interval_program_is_built_without_storm_s_error_message(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = ("mdp\nmodule m\n s : [0..2] init 0;\n [go] s=0 -> [0.6, 0.9]:(s'=1) + [0.1,0.4]:(s'=2);\n"
            " [stay] s>0 -> 1:(s'=s);\nendmodule\n")
    mdp = load_mdp(write(tmp_path / "imdp.nm", text))
    assert mdp.is_credal and mdp.successor_intervals(0)[0][1:] == (Fraction(3, 5), Fraction(9, 10))
    assert "ERROR" not in capfd.readouterr().err   # Storm's point builder is not tried first


def test_probabilities_not_summing_to_one_are_reported(tmp_path: Path) -> None:
    text = "mdp\nmodule m\n x : [0..2] init 0;\n [go] x=0 -> 0.5:(x'=1) + 0.6:(x'=2);\n"
    text += " [] x>0 -> true;\nendmodule\n"
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "bad.nm", text)))
    assert "bad.nm:4:state x=0, action go:" in str(error) and "sum to 11/10" in str(error)  # the command's line


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = "mdp\nmodule m\n x : [0..2] init 0;\n [] x=0 -> 0.5:(x'=1) + ;\nendmodule\n"
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "bad.prism", text)))
    assert "bad.prism:4:" in str(error) and "does not parse" in str(error)


def test_undefined_constants_are_reported(tmp_path: Path) -> None:
    text = (
        "mdp\nconst double p;\nmodule m\n x : [0..1] init 0;\n [] true -> p:(x'=1) + 1-p:(x'=0);\nendmodule\n"
    )
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "c.nm", text)))
    assert "c.nm:" in str(error) and "constants without a value: p" in str(error)


def test_missing_stormpy_asks_for_the_storm_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "stormpy", None)
    error = only_error(pytest.raises(InputError, load_mdp, MODELS / "small.nm"))
    assert "stormpy" in str(error) and "storm extra" in str(error)
