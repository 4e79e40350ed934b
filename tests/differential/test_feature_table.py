"""The README's feature table, row by row: what `proofs` does (shown here on the cliff world or a
credal variant of it) and what Storm 2.0 answers when asked the same (its error, run here).

A row of the table is only as good as this test: when Storm learns one of these, the test fails
and the table must change."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import stormpy

import proofs
from proofs.interop.storm import to_storm
from tests.support.mdps import make_mdp

ROOT = Path(__file__).resolve().parents[2]
CLIFF = ROOT / "worldmodels" / "cliff.toml"


def storm_refuses(model: object, formula: str, *, scheduler: bool = False, **options: object) -> str:
    with pytest.raises(Exception) as info:   # Storm's C++ exceptions arrive as RuntimeError and kin
        stormpy.model_checking(model, stormpy.parse_properties(formula)[0], extract_scheduler=scheduler, **options)
    return str(info.value)


def test_row_the_reward_hack_is_a_policy_not_only_a_number() -> None:
    model = proofs.load_model(CLIFF)
    hack = proofs.prove_alignment(model, proofs.Objective("progress", horizon=6), epsilon="1/10",
                                  desirable=['P<=0.01 [ F "fatal" ]']).counterexample
    assert hack is not None and hack.action("start") in ("walk", "run")
    storm = to_storm(model.mdp, exact=False)
    message = storm_refuses(storm, 'multi(Pmax=? [F<=6 "fatal"], R{"progress"}>=0.5 [C<=6])', scheduler=True)
    assert "Scheduler retrival is only implemented for objectives without time-bound" in message, message


def test_row_a_discounted_score_inside_the_alignment_lemma() -> None:
    model = proofs.load_model(CLIFF)
    result = proofs.prove_alignment(model, proofs.Objective("careful", horizon="geometric", discount="9/10"),
                                    epsilon="1/100", desirable=['P<=0.2 [ F "fatal" ]'])
    assert result.status.value in ("proved", "refuted") and result.j_star.lo == result.j_star.hi   # exact
    storm = to_storm(model.mdp, exact=False)
    message = storm_refuses(storm, 'multi(Pmax=? [F "fatal"], R{"careful"}>=0.1 [Cdiscount=9/10])')
    assert "Cdiscount" in message and "is not supported" in message, message


def test_row_exact_discounted_values() -> None:
    model = proofs.load_model(CLIFF)
    j = proofs.evaluate(model, proofs.Objective("careful", horizon="geometric", discount="9/10"),
                        ROOT / "policies" / "cliff-walk.json")
    assert j.j_star is not None and j.j_star.lo == j.j_star.hi and isinstance(j.j_star.lo, Fraction)
    storm = to_storm(model.mdp, exact=True)
    message = storm_refuses(storm, 'R{"careful"}max=? [Cdiscount=9/10]')
    assert "Exact solving of discounted total reward objectives is currently not supported" in message, message


def test_row_multi_objective_questions_on_interval_models() -> None:
    credal = make_mdp(["s", "t", "u"], {
        "s": [("a", {"t": ("1/4", "3/4"), "u": ("1/4", "3/4")}), ("b", {"u": ("1", "1")})],
        "t": [("stay", {"t": ("1", "1")})], "u": [("stay", {"u": ("1", "1")})],
    }, rewards={"r": {("s", "a"): 1}}, labels={"fatal": ["t"]})
    model = proofs.Model(credal, None)
    result = proofs.prove_alignment(model, proofs.Objective("r", horizon=2), epsilon="1/2",
                                    desirable=['P<=1/2 [ F "fatal" ]'])
    assert result.status.value == "refuted"   # nature can push the risky action's mass to "fatal"
    assert result.constraints[0]["worst"].lo == Fraction(3, 4)
    storm = to_storm(credal, exact=False)
    message = storm_refuses(storm, 'multi(Pmax=? [F<=2 "fatal"], R{"r"}>=0.5 [C<=2])',
                            uncertainty_resolution_mode=stormpy.UncertaintyResolutionMode.ROBUST)
    assert message
