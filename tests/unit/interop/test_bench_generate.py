"""The benchmark generators: exact 6-digit numbers, distributions summing to exactly 1, Storm-readable."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from tests.support.mdps import bench_generate, grid_mdp, random_mdp

from proofs.core.numbers import groups_sum_to_one

gen = bench_generate()


def _read_rows(path: Path) -> dict[tuple[int, int], dict[int, Fraction]]:
    rows: dict[tuple[int, int], dict[int, Fraction]] = {}
    for line in path.read_text().splitlines():
        s, c, t, v = line.split()
        assert len(v.partition(".")[2]) <= 6, line
        rows.setdefault((int(s), int(c)), {})[int(t)] = Fraction(v)
    return rows


@pytest.mark.parametrize("model", [gen.grid(6), gen.random_model(300, seed=2)], ids=["grid", "random"])
def test_written_files_are_exact_and_consistent(tmp_path: Path, model: object) -> None:
    paths = gen.write_explicit(model, tmp_path)
    lines = paths["tra"].read_text().split("\n", 1)
    assert lines[0] == "mdp"
    paths["tra"].write_text(lines[1])
    transitions = _read_rows(paths["tra"])
    assert all(sum(dist.values()) == 1 for dist in transitions.values())
    assert len(transitions) == model.n_choices  # type: ignore[attr-defined]
    rewards = _read_rows(paths["transrew"])
    expected = [Fraction(int(r), gen.UNIT) for r in model.reward]  # type: ignore[attr-defined]
    for index, key in enumerate(sorted(transitions)):
        paid = rewards.get(key, {})
        assert sum(p * paid.get(t, 0) for t, p in transitions[key].items()) == expected[index]
    assert paths["lab"].read_text().startswith("#DECLARATION\ninit fatal goal\n#END\n0 init\n")


def test_grid_sizes_match_the_storm_notes() -> None:
    for n, sizes in [(32, (1024, 4003, 11941)), (100, (10000, 39703, 118905))]:
        g = gen.grid(n)
        assert (g.n_states, g.n_choices, g.n_transitions) == sizes


def test_random_family_shape() -> None:
    r = gen.random_model(1000)
    assert (r.n_states, r.n_choices) == (1000, 3940)
    assert r.labels["fatal"].sum() == r.labels["goal"].sum() == 10
    assert not (r.labels["fatal"] | r.labels["goal"])[0]
    assert np.array_equal(gen.random_model(1000).target, r.target)  # deterministic given the seed


@pytest.mark.parametrize("mdp", [grid_mdp(20), random_mdp(2000)], ids=["grid", "random"])
def test_distributions_sum_to_exactly_one(mdp: object) -> None:
    assert mdp.probability is not None  # type: ignore[attr-defined]
    assert groups_sum_to_one(mdp.probability, mdp.row_start).all()  # type: ignore[attr-defined]
    assert mdp.probability.all_nonnegative()  # type: ignore[attr-defined]


def test_grid_rewards_pay_for_entering_the_goal() -> None:
    mdp = grid_mdp(4)
    goal = int(np.flatnonzero(mdp.labels["goal"])[0])
    for c in range(mdp.n_choices):
        state = int(mdp.choice_state[c])
        into_goal = sum((p for t, p in mdp.successors(c) if t == goal), Fraction(0))
        assert mdp.rewards["r"][c] == (0 if state == goal else into_goal)


def test_slip_must_be_representable() -> None:
    with pytest.raises(ValueError):
        gen.grid(4, Fraction(1, 3))
    deterministic = gen.grid(4, Fraction(0))
    assert deterministic.n_transitions == deterministic.n_choices


def test_decimal_text() -> None:
    text = gen._lines([gen._decimal_text(np.array([1_000_000, 50_000, 123_456, 0, 2_500_000]))])
    assert text == b"1\n0.05\n0.123456\n0\n2.5\n"
