"""`proofs show`'s reachable count: the range-based search against a plain graph search."""

import numpy as np
import pytest
from tests.support.mdps import grid_mdp, make_mdp, random_mdp

from proofs.report.show import _reachable


def reference(mdp):
    seen, stack = {int(s) for s in mdp.initial_states}, [int(s) for s in mdp.initial_states]
    while stack:
        s = stack.pop()
        for c in range(mdp.choice_start[s], mdp.choice_start[s + 1]):
            for t, _ in mdp.successors(c):
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
    return np.isin(np.arange(mdp.n_states), sorted(seen))


@pytest.mark.parametrize("mdp", [random_mdp(50, seed=3), grid_mdp(7), make_mdp(
    ["a", "b", "c", "d"], {"a": [("go", {"b": 1}), ("stay", {"a": 1})], "b": [("stay", {"b": 1})],
                           "c": [("go", {"d": 1})], "d": [("back", {"c": "1/2", "a": "1/2"})]})],
    ids=["random", "grid", "unreachable part"])
def test_reachable_states(mdp):
    assert np.array_equal(_reachable(mdp), reference(mdp))
