"""Fixtures: tiny world models for the policy tests (built by `policy_worlds.build_mdp`)."""

from __future__ import annotations

import pytest
from policy_worlds import build_mdp

from proofs.core.model import Mdp


@pytest.fixture
def corridor() -> Mdp:
    """s0 -right-> s1 -right-> s2 (goal, absorbing); left slips back; 'far' is never reached.

    From s1, 'jump' reaches s2 or 'pit' (labelled fatal) with probability 1/2 each.
    """
    spec = {
        "s0": {"left": {"s0": 1}, "right": {"s1": 1}},
        "s1": {"left": {"s0": 1}, "right": {"s2": 1}, "jump": {"s2": "1/2", "pit": "1/2"}},
        "s2": {"stay": {"s2": 1}},
        "pit": {"stay": {"pit": 1}},
        "far": {"left": {"far": 1}, "right": {"s2": 1}},
    }
    return build_mdp(spec, {"s0": 1}, {"goal": {"s2"}, "fatal": {"pit"}})


@pytest.fixture
def grid_like() -> Mdp:
    """A gym-like model: states "0".."3", actions "0","1" everywhere, start "0"."""
    spec = {
        "0": {"0": {"0": 1}, "1": {"1": "1/3", "2": "2/3"}},
        "1": {"0": {"3": 1}, "1": {"1": 1}},
        "2": {"0": {"3": 1}, "1": {"0": 1}},
        "3": {"0": {"3": 1}, "1": {"3": 1}},
    }
    return build_mdp(spec, {"0": 1})
