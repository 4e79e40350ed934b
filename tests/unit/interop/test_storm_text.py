"""Storm property text for our formula ASTs and objectives (SPEC §2 bound handling)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from proofs.core.formula import (
    And,
    Comparison,
    Eventually,
    Globally,
    Label,
    Not,
    Or,
    PathFormula,
    ProbabilityConstraint,
    RewardConstraint,
    Truth,
    Until,
)
from proofs.core.objective import Objective
from proofs.interop.storm import (
    StormNames,
    storm_bound,
    storm_multi,
    storm_objective_bound,
    storm_path,
    storm_property,
    storm_state,
)

FATAL = Label("fatal")
FINITE = Objective("r", 40)
DISCOUNTED = Objective("r", 40, Fraction(9, 10))
GEOMETRIC = Objective("r", None, Fraction(9, 10))


def _p(path: PathFormula) -> ProbabilityConstraint:
    return ProbabilityConstraint(Comparison.LE, Fraction(1, 100), path)


def test_objectives() -> None:
    assert storm_property(None, FINITE) == 'R{"r"}max=? [C<=40]'
    assert storm_property(None, DISCOUNTED, "min") == 'R{"r"}min=? [C<=40 discount=9/10]'
    assert storm_property(None, GEOMETRIC) == 'R{"r"}max=? [C]'  # on the geometric unrolling
    assert storm_property(None, FINITE, None) == 'R{"r"}=? [C<=40]'


@pytest.mark.parametrize("path, text", [
    (Eventually(FATAL), 'F<=40 "fatal"'),
    (Eventually(FATAL, 5), 'F<=5 "fatal"'),
    (Eventually(FATAL, 99), 'F<=40 "fatal"'),
    (Until(Not(Label("goal")), FATAL, None), '!"goal" U<=40 "fatal"'),
    (Until(Or(Label("a"), Label("b")), FATAL, 3), '("a" | "b") U<=3 "fatal"'),
    (Globally(Not(FATAL)), '!(F<=40 "fatal")'),
    (Globally(Not(FATAL), 7), '!(F<=7 "fatal")'),
])
def test_finite_horizon_caps_every_bound(path: PathFormula, text: str) -> None:
    assert storm_path(path, horizon=40) == text
    assert storm_property(_p(path), FINITE) == f"Pmax=? [{text}]"


@pytest.mark.parametrize("path, text", [
    (Eventually(FATAL), 'F ("fatal" & !"stop")'),
    (Eventually(FATAL, 5), 'F<=5 ("fatal" & !"stop")'),
    (Until(Label("a"), FATAL, None), '"a" U ("fatal" & !"stop")'),
    (Globally(Not(FATAL)), 'G (!"fatal" | "stop")'),
    (Globally(Not(FATAL), 2), '!(F<=2 ("fatal" & !"stop"))'),
])
def test_geometric_horizon_reads_paths_on_the_unrolling(path: PathFormula, text: str) -> None:
    assert storm_property(_p(path), GEOMETRIC, "min") == f"Pmin=? [{text}]"


def test_constants_are_folded_away() -> None:
    assert storm_state(And(FATAL, Not(Truth(False)))) == '"fatal"'
    assert storm_state(Or(FATAL, Truth(True))) == "true"
    assert storm_state(Not(Not(FATAL))) == '"fatal"'
    assert storm_path(Until(Truth(True), FATAL, 3)) == 'F<=3 "fatal"'


def test_reward_constraints_and_renaming() -> None:
    names = StormNames(labels={"bad place": "bad_place"}, rewards={"my cost": "my_cost", "r": "r"})
    harm = RewardConstraint("my cost", Comparison.LE, Fraction(1, 10), None)
    assert storm_property(harm, FINITE, names=names) == 'R{"my_cost"}max=? [C<=40]'
    assert storm_property(harm, GEOMETRIC, names=names) == 'R{"my_cost"}max=? [C]'
    assert storm_bound(harm, FINITE, names=names) == 'R{"my_cost"}<=1/10 [C<=40]'
    bad = _p(Eventually(Label("bad place")))
    assert storm_bound(bad, FINITE, names=names) == 'P<=1/100 [F<=40 "bad_place"]'


def test_multi_objective_text() -> None:
    query = storm_multi(storm_property(_p(Eventually(FATAL)), FINITE),
                        storm_objective_bound(FINITE, Comparison.GE, Fraction(9, 10)))
    assert query == 'multi(Pmax=? [F<=40 "fatal"], R{"r"}>=9/10 [C<=40])'
    with pytest.raises(ValueError):
        storm_multi('Pmax=? [F "fatal"]')
    with pytest.raises(ValueError):
        storm_property(None, FINITE, "maximum")


def test_printed_properties_parse_in_storm() -> None:
    stormpy = pytest.importorskip("stormpy")
    texts = [
        storm_property(_p(Globally(Not(FATAL), 2)), GEOMETRIC, "min"),
        storm_property(_p(Until(Or(Label("a"), Label("b")), FATAL, 3)), FINITE),
        storm_property(None, DISCOUNTED),
        storm_multi(storm_property(_p(Eventually(FATAL)), FINITE),
                    storm_objective_bound(FINITE, Comparison.GE, Fraction(-3, 2))),
    ]
    for text in texts:
        assert len(stormpy.parse_properties(text)) == 1, text


def test_rationals_beyond_64_bits_are_written_as_storm_reads_them_exactly() -> None:
    """Storm's integer literals must fit 64 bits: a longer rational is a quotient of decimals, which
    Storm's exact engine reads exactly (J* - ε on FrozenLake at H = 40 has 20-digit terms)."""
    from tests.support.mdps import make_mdp

    from proofs.interop.storm import check_initial, to_storm

    big = Fraction(3**45, 2**70)   # 0.0025..., numerator and denominator past 2**63
    assert storm_objective_bound(Objective("r", 2), Comparison.GE, big) == \
        f'R{{"r"}}>={3**45}.0/{2**70}.0 [C<=2]'
    assert storm_objective_bound(Objective("r", 2), Comparison.GE, Fraction(1, 3)) == 'R{"r"}>=1/3 [C<=2]'
    mdp = make_mdp(["s", "t"], {"s": [("a", {"t": 1}), ("b", {"s": 1})], "t": [("stay", {"t": 1})]},
                   rewards={"r": {("s", "a"): big}}, labels={"goal": ["t"]})
    query = storm_multi('Pmax=? [F<=2 "goal"]', storm_objective_bound(Objective("r", 2), Comparison.GE, big))
    assert check_initial(to_storm(mdp, exact=True), query, exact=True, multi_precision=0) == 1
    above = storm_objective_bound(Objective("r", 2), Comparison.GE, big + Fraction(1, 2**70))
    assert check_initial(to_storm(mdp, exact=True), storm_multi('Pmax=? [F<=2 "goal"]', above), exact=True,
                         multi_precision=0) != 1   # one part in 2**70 more: no policy reaches it
