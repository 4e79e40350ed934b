"""`fix_policy` / `induced_chain`: the Markov chain of a stationary policy, mixed exactly."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from tests.support.mdps import grid_mdp, make_mdp

from proofs.core.errors import EngineError
from proofs.core.model import Mdp
from proofs.core.numbers import groups_sum_to_one
from proofs.core.policy import PolicyLayer
from proofs.interop.storm import fix_policy

TOY = make_mdp(
    ["s", "t", "u"],
    {
        "s": [("a", {"t": Fraction(1, 3), "u": Fraction(2, 3)}), ("b", {"s": Fraction(1, 2), "t": Fraction(1, 2)})],
        "t": [("stay", {"t": 1})],
        "u": [("back", {"s": 1}), ("stay", {"u": 1})],
    },
    rewards={"r": {("s", "a"): 1, ("s", "b"): Fraction(1, 5), ("u", "back"): -1}},
    labels={"goal": ["t"]},
)


def _finite_horizon(mdp: Mdp, horizon: int) -> list[Fraction]:
    """E Σ_{t<H} r on a one-choice-per-state model, by backward induction in Fractions."""
    value = [Fraction(0)] * mdp.n_states
    for _ in range(horizon):
        value = [mdp.rewards["r"][s] + sum((p * value[t] for t, p in mdp.successors(s)), Fraction(0))
                 for s in range(mdp.n_states)]
    return value


def test_randomized_decisions_mix_rows_exactly() -> None:
    layer = PolicyLayer.from_table(TOY, {0: [(0, Fraction(1, 4)), (1, Fraction(3, 4))], 1: [(2, 1)], 2: [(3, 1)]})
    chain = fix_policy(TOY, layer)
    assert chain.n_choices == 3
    assert chain.successors(0) == [(0, Fraction(3, 8)), (1, Fraction(1, 12) + Fraction(3, 8)), (2, Fraction(1, 6))]
    assert chain.rewards["r"][0] == Fraction(1, 4) + Fraction(3, 20)
    assert chain.action(0) == "a+b" and chain.action(2) == "back"
    assert chain.probability is not None and groups_sum_to_one(chain.probability, chain.row_start).all()


def test_undefined_states_become_absorbing_with_reward_zero() -> None:
    layer = PolicyLayer.from_table(TOY, {0: [(0, 1)], 1: [(2, 1)]})
    chain = fix_policy(TOY, layer)
    assert chain.successors(2) == [(2, 1)] and chain.rewards["r"][2] == 0
    assert chain.action(2) == "undefined"


def test_induced_chain_values_equal_backward_induction() -> None:
    pytest.importorskip("stormpy")
    from proofs.interop.storm import check, induced_chain

    layer = PolicyLayer.from_table(TOY, {0: [(0, Fraction(1, 4)), (1, Fraction(3, 4))], 1: [(2, 1)], 2: [(3, 1)]})
    model = induced_chain(TOY, layer, exact=True)
    assert type(model).__name__.startswith("_SparseDtmc")
    assert check(model, 'R{"r"}=? [C<=7]', exact=True) == _finite_horizon(fix_policy(TOY, layer), 7)
    floats = check(induced_chain(TOY, layer, exact=False), 'R{"r"}=? [C<=7]', exact=False)
    assert floats == pytest.approx([float(v) for v in _finite_horizon(fix_policy(TOY, layer), 7)])


def test_deterministic_policy_on_a_grid() -> None:
    pytest.importorskip("stormpy")
    from proofs.interop.storm import check, induced_chain, to_storm

    mdp = grid_mdp(5)
    east = mdp.choice_start[:-1] + np.where(np.diff(mdp.choice_start) == 4, 1, 0)  # action 1 = east
    layer = PolicyLayer.deterministic(mdp, east)
    chain_values = check(induced_chain(mdp, layer, exact=True), 'P=? [F<=30 "goal"]', exact=True)
    best = check(to_storm(mdp, exact=True), 'Pmax=? [F<=30 "goal"]', exact=True)
    assert all(v <= b for v, b in zip(chain_values, best))
    assert chain_values[0] > 0


def test_credal_chains() -> None:
    pytest.importorskip("stormpy")
    from proofs.interop.storm import check, induced_chain

    mdp = make_mdp(["s", "t", "u"], {
        "s": [("a", {"t": ("0.4", "0.9"), "u": ("0.1", "0.6")}), ("b", {"u": 1})],
        "t": [("stay", {"t": 1})], "u": [("stay", {"u": 1})],
    }, labels={"goal": ["t"]})
    layer = PolicyLayer.deterministic(mdp, np.array([0, 2, 3]))
    model = induced_chain(mdp, layer, exact=True)
    assert check(model, 'P=? [F "goal"]', exact=True, nature="minimize")[0] == Fraction(2, 5)
    assert check(model, 'P=? [F "goal"]', exact=True, nature="maximize")[0] == Fraction(9, 10)
    with pytest.raises(ValueError, match="minimize"):
        check(model, 'P=? [F "goal"]', exact=True)
    mixed = PolicyLayer.from_table(mdp, {0: [(0, Fraction(1, 2)), (1, Fraction(1, 2))], 1: [(2, 1)], 2: [(3, 1)]})
    with pytest.raises(EngineError):
        fix_policy(mdp, mixed)


def test_every_state_randomized_or_undefined() -> None:
    layer = PolicyLayer.from_table(TOY, {0: [(0, Fraction(1, 2)), (1, Fraction(1, 2))]})
    chain = fix_policy(TOY, layer)
    assert [chain.action(c) for c in range(3)] == ["a+b", "undefined", "undefined"]
    assert chain.successors(0) == [(0, Fraction(1, 4)), (1, Fraction(5, 12)), (2, Fraction(1, 3))]
