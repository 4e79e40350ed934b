"""Repeated action names of one state (SPEC §3): ``tick``, ``tick#2``, ``tick#3``, … in file order.

Guards issue "PRISM users' models": a state with two ``[tick]`` commands was rejected with "has two
actions named 'tick'", although Storm builds such programs and they cannot be renamed without
breaking synchronisation.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from proofs.core.errors import InputErrors
from proofs.worldmodel.build import number_repeated
from proofs.worldmodel.load import load_mdp

from .helpers import write

PROGRAM = """mdp
module m
  s : [0..2] init 0;
  [tick] s=0 -> 1/2:(s'=1) + 1/2:(s'=2);
  [tick] s=0 -> (s'=2);
  [go]   s=0 -> (s'=1);
  [tick] s=0 -> (s'=0);
  [tick] s>0 -> true;
endmodule
label "goal" = s=2;
"""


def test_prism_program_with_two_tick_commands_loads_with_numbered_names(tmp_path: Path) -> None:
    pytest.importorskip("stormpy")
    mdp = load_mdp(write(tmp_path / "m.nm", PROGRAM))
    s0 = mdp.states.index("s=0")
    actions = mdp.local_actions(s0)
    assert sorted(actions) == ["go", "tick", "tick#2", "tick#3"]
    # the second and third [tick] of s=0 keep their own distributions
    by_name = {mdp.action(c): c for c in mdp.choices(s0)}
    assert [(mdp.states[t], p) for t, p in mdp.successors(by_name["tick"])] != \
        [(mdp.states[t], p) for t, p in mdp.successors(by_name["tick#2"])]
    assert mdp.local_actions(mdp.states.index("s=1")) == ["tick"]


def test_drn_repeated_action_names_are_numbered(tmp_path: Path) -> None:
    text = """@type: MDP
@parameters

@reward_models

@nr_states
2
@nr_choices
4
@model
state 0 init
	action a
		1 : 1
	action a
		0 : 1
	action b
		1 : 1/2
		0 : 1/2
state 1
	action a
		1 : 1
"""
    mdp = load_mdp(write(tmp_path / "m.drn", text))
    assert mdp.local_actions(0) == ["a", "a#2", "b"]
    assert mdp.successors(mdp.choice_of(0, "a#2") or 0) == [(0, Fraction(1))]
    assert mdp.local_actions(1) == ["a"]


def test_explicit_prism_dialect_repeated_labels_are_numbered(tmp_path: Path) -> None:
    write(tmp_path / "m.tra", "2 4 5\n0 0 1 1 go\n0 1 0 1 go\n0 2 1 0.5 go\n0 2 0 0.5 go\n1 0 1 1 stay\n")
    write(tmp_path / "m.lab", '0="init" 1="goal"\n0: 0\n1: 1\n')
    mdp = load_mdp(tmp_path / "m.tra")
    assert mdp.local_actions(0) == ["go", "go#2", "go#3"]
    assert mdp.local_actions(1) == ["stay"]


def test_number_repeated_leaves_distinct_names_alone() -> None:
    names = ("a", "b")
    actions = np.array([0, 1, 0], dtype=np.int32)
    assert number_repeated(np.array([0, 2, 3]), names, actions) == (names, actions)


def test_summary_counts_every_problem_not_the_lines(tmp_path: Path) -> None:
    """The summary once said "1801 more problems of this kind" and then "21 problems found"."""
    rows = "".join(f"{s} 0 {s} 0.5\n" for s in range(30))
    write(tmp_path / "m.tra", f"30 30 30\n{rows}")
    with pytest.raises(InputErrors) as info:
        load_mdp(tmp_path / "m.tra")
    assert info.value.total >= 30
    assert info.value.total > len(info.value.errors)
