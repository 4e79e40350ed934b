"""The Storm bridge builds the same models as Storm's own parser, exactly or in floats."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

stormpy = pytest.importorskip("stormpy")

from tests.support.mdps import bench_generate, grid_mdp, make_mdp, random_mdp

from proofs.core.errors import EngineError
from proofs.interop.storm import (
    check,
    check_initial,
    initial_value,
    storm_names,
    storm_value,
    to_storm,
)

QUERIES = ['R{"r"}max=? [C<=20]', 'Pmax=? [F "fatal"]', 'Pmin=? [F<=10 "goal"]', 'Pmax=? [!"fatal" U "goal"]']


def _explicit(model: Any, directory: Path) -> Any:
    paths = bench_generate().write_explicit(model, directory)
    return stormpy.build_model_from_explicit(str(paths["tra"]), str(paths["lab"]),
                                             transition_rewards=str(paths["transrew"]))


@pytest.mark.parametrize("family, size", [("grid", 5), ("random", 200)])
def test_bridge_matches_storm_explicit_parser(tmp_path: Path, family: str, size: int) -> None:
    gen = bench_generate()
    generated = gen.grid(size) if family == "grid" else gen.random_model(size)
    parsed = _explicit(generated, tmp_path)
    ours = to_storm(grid_mdp(size) if family == "grid" else random_mdp(size), exact=False)
    assert (ours.nr_states, ours.nr_choices, ours.nr_transitions) == (
        parsed.nr_states, parsed.nr_choices, parsed.nr_transitions)
    for query in QUERIES:
        theirs = check(parsed, query.replace('R{"r"}', "R"), exact=False)
        assert check(ours, query, exact=False) == pytest.approx(theirs, abs=1e-12), query


def test_exact_mode_gives_fractions_that_match_floats() -> None:
    mdp = grid_mdp(4)
    exact = storm_value(mdp, 'R{"r"}max=? [C<=50]', exact=True)
    floats = storm_value(mdp, 'R{"r"}max=? [C<=50]', exact=False)
    assert all(isinstance(v, Fraction) for v in exact)
    assert [float(v) for v in exact] == pytest.approx(floats, abs=1e-12)
    assert floats[0] == 0.9910425027215878  # STORM-NOTES §1, Storm's parser on grid_4


def test_exact_values_are_exact_on_a_toy() -> None:
    mdp = make_mdp(["s", "t", "u"], {
        "s": [("a", {"t": Fraction(1, 3), "u": Fraction(2, 3)}), ("b", {"s": 1})],
        "t": [("stay", {"t": 1})], "u": [("stay", {"u": 1})],
    }, rewards={"r": {("s", "a"): Fraction(1, 7)}}, labels={"goal": ["t"]})
    assert storm_value(mdp, 'Pmax=? [F "goal"]', exact=True) == [Fraction(1, 3), 1, 0]
    assert storm_value(mdp, 'R{"r"}max=? [C<=3]', exact=True)[0] == Fraction(1, 7)


def test_initial_value_weights_by_the_initial_distribution() -> None:
    mdp = make_mdp(["s", "t"], {"s": [("a", {"t": 1})], "t": [("a", {"t": 1})]},
                   labels={"goal": ["t"]}, initial={"s": Fraction(1, 4), "t": Fraction(3, 4)})
    values = storm_value(mdp, 'Pmax=? [X "goal"]', exact=True)
    assert initial_value(mdp, values) == 1
    assert initial_value(mdp, storm_value(mdp, 'Pmax=? [F<=0 "goal"]', exact=True)) == Fraction(3, 4)


def test_names_storm_cannot_read_are_renamed() -> None:
    mdp = make_mdp(["s", "t"], {"s": [("a", {"t": 1})], "t": [("a", {"t": 1})]},
                   rewards={"my cost": {("s", "a"): 2}}, labels={"bad-place": ["t"], "init": ["t"]})
    names = storm_names(mdp)
    assert names.labels == {"bad-place": "bad_place", "init": "init_1"}
    assert names.rewards == {"my cost": "my_cost"}
    model = to_storm(mdp, exact=True)
    assert list(model.initial_states) == [0]  # Storm's init is μ₀'s support, not the user label
    assert check(model, 'Pmax=? [F "bad_place"]', exact=True) == [1, 1]
    assert check(model, 'Pmax=? [F<=0 "init_1"]', exact=True) == [0, 1]
    assert check(model, 'R{"my_cost"}max=? [C<=5]', exact=True) == [2, 0]


def test_init_label_equal_to_the_initial_support_is_kept() -> None:
    mdp = make_mdp(["s", "t"], {"s": [("a", {"t": 1})], "t": [("a", {"t": 1})]}, labels={"init": ["s"]})
    assert storm_names(mdp).labels == {"init": "init"}
    assert sorted(to_storm(mdp, exact=False).labeling.get_labels()) == ["init"]


def test_credal_model_builds_an_interval_mdp() -> None:
    mdp = make_mdp(["s", "t", "u"], {
        "s": [("a", {"t": ("0.4", "0.9"), "u": ("0.1", "0.6")})],
        "t": [("stay", {"t": 1})], "u": [("stay", {"u": 1})],
    }, labels={"goal": ["t"]})
    for exact, low in ((False, 0.4), (True, Fraction(2, 5))):
        model = to_storm(mdp, exact=exact)
        assert model.supports_uncertainty
        assert check(model, 'Pmax=? [F "goal"]', exact=exact)[0] == low  # nature works against max
        assert check(model, 'Pmax=? [F "goal"]', exact=exact, nature="cooperative")[0] == pytest.approx(0.9)


def test_multi_objective_value_at_the_initial_state() -> None:
    model = to_storm(grid_mdp(4), exact=False)
    rmax = check_initial(model, 'R{"r"}max=? [C<=50]', exact=False)
    query = f'multi(Pmax=? [F<=50 "fatal"], R{{"r"}}>={0.9 * rmax!r} [C<=50])'
    value = check_initial(model, query, exact=False, multi_precision=1e-9)
    assert 0 < value < 1
    assert check(model, query, exact=False, multi_precision=1e-9) == [value]


def test_storm_errors_become_engine_errors() -> None:
    model = to_storm(grid_mdp(3), exact=True)
    with pytest.raises(EngineError, match="discount"):
        check(model, 'R{"r"}max=? [Cdiscount=9/10]', exact=True)


def test_exact_flag_must_match_the_model() -> None:
    with pytest.raises(ValueError, match="exact"):
        check(to_storm(grid_mdp(3), exact=False), 'Pmax=? [F "goal"]', exact=True)


def test_qualitative_results_are_booleans() -> None:
    values = check(to_storm(grid_mdp(3), exact=False), 'P>=1 [F "goal"]', exact=False)
    assert values[2] is True and all(isinstance(v, bool) for v in values)
    assert np.count_nonzero(values) >= 1


def test_unparsable_properties_are_engine_errors() -> None:
    with pytest.raises(EngineError, match="parse"):
        check(to_storm(grid_mdp(3), exact=False), 'Pmax=? [G<=3 "goal"]', exact=False)
