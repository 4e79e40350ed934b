"""The fast passes of `proofs.operators` compute the kernel's floats, bit for bit, in every layout.

Soundness rests on the kernel's plain passes (`proofs.kernel.bellman`) and their error analysis;
the engines' claims are computed with `FastBellman`, so they are what the kernel re-derives only
if both compute the same floats. Checked with many blocks (so both threads work) while the kernel
takes its choices a few at a time in CSR order, the default blocks (the kernel by successor
position), and no slot layout at all (padding refused: the plain passes). The kernel's own two
ways of summing a choice's successors (by position, in CSR pieces) give the same floats too.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.mdps import small_mdps

from proofs.core.policy import PolicyLayer
from proofs.kernel import bellman
from proofs.kernel.bellman import ExactBellman, FloatBellman
from proofs.operators import ChoiceLayout, FastBellman
from proofs.operators import bellman as fast_ops
from proofs.operators import layout as slots

# (states per block, padding allowed, choices per piece of the kernel's CSR passes, the kernel's padding)
LAYOUTS = {"many blocks, many pieces": (2, 1e9, 2, 0.0),
           "default blocks": (slots.BLOCK, slots.PADDING, bellman._PIECE, bellman._PADDING),
           "no slots": (slots.BLOCK, 0.0, 3, 1e9)}


@st.composite
def layers(draw, mdp):
    table = {}
    for s in range(mdp.n_states):
        if draw(st.integers(0, 4)) == 0:
            continue   # undefined here: T_π gives 0
        picked = draw(st.lists(st.sampled_from(list(mdp.choices(s))), min_size=1, max_size=3, unique=True))
        weights = [draw(st.integers(1, 3)) for _ in picked]
        table[s] = [(c, Fraction(w, sum(weights))) for c, w in zip(picked, weights)]
    return PolicyLayer.from_table(mdp, table)


@pytest.mark.parametrize("block, padding, piece, kernel_padding", LAYOUTS.values(), ids=LAYOUTS.keys())
@given(data=st.data(), mdp=small_mdps(max_states=7), beta=st.sampled_from([Fraction(1), Fraction(9, 10)]))
@settings(max_examples=40, deadline=None)
def test_fast_passes_are_the_kernels_floats(block, padding, piece, kernel_padding, data, mdp, beta):
    w = np.array(data.draw(st.lists(st.floats(-1e3, 1e3), min_size=mdp.n_states, max_size=mdp.n_states)))
    layer = data.draw(layers(mdp))
    scale = data.draw(st.sampled_from([0.0, 0.3, 7.0]))
    local = np.array([data.draw(st.integers(0, int(k) - 1)) for k in np.diff(mdp.choice_start)], dtype=np.int64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(slots, "BLOCK", block)
        patch.setattr(fast_ops, "BLOCK", block)
        patch.setattr(slots, "PADDING", padding)
        patch.setattr(bellman, "_PIECE", piece)
        patch.setattr(bellman, "_PADDING", kernel_padding)
        shared = ChoiceLayout(mdp)
        fast, other = shared.bellman(mdp.rewards["r"], beta), shared.bellman(mdp.rewards["c"], Fraction(1))
        assert isinstance(fast, FastBellman)
        plain, plain_other = FloatBellman(mdp, mdp.rewards["r"], beta), FloatBellman(mdp, mdp.rewards["c"], Fraction(1))
        chosen = mdp.choice_start[:-1] + local
        pairs = [(fast.optimal(w), plain.optimal(w)), (fast.policy(layer, w), plain.policy(layer, w)),
                 (fast.selected_values(w, fast.select(chosen)), plain.selected_values(w, plain.select(chosen)))]
        for sign in (1, -1):
            pairs.append((other.optimal_plus(w, sign, fast, scale), plain_other.optimal_plus(w, sign, plain, scale)))
    for (f_values, f_second), (p_values, p_second) in pairs:
        assert np.array_equal(f_values, p_values) and f_second == p_second
    exact = ExactBellman(mdp, mdp.rewards["r"], beta)
    exact_w = [Fraction(float(x)) for x in w]
    for truth, (centre, err) in ((exact.optimal(exact_w)[0], pairs[0][0]), (exact.policy(layer, exact_w)[0], pairs[1][0])):
        for s in range(mdp.n_states):
            assert abs(Fraction(float(centre[s])) - truth[s]) <= err


@given(data=st.data(), mdp=small_mdps(max_states=7), beta=st.sampled_from([Fraction(1), Fraction(9, 10)]))
@settings(max_examples=40, deadline=None)
def test_the_kernels_positions_and_pieces_are_the_same_floats(data, mdp, beta):
    w = np.array(data.draw(st.lists(st.floats(-1e3, 1e3), min_size=mdp.n_states, max_size=mdp.n_states)))
    layer = data.draw(layers(mdp))
    local = np.array([data.draw(st.integers(0, int(k) - 1)) for k in np.diff(mdp.choice_start)], dtype=np.int64)
    results = []
    for padding in (1e9, 0.0):   # every model by position (successors and a state's choices), then none
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bellman, "_PADDING", padding)
            patch.setattr(bellman, "_POSITIONS", bellman.weakref.WeakKeyDictionary())
            patch.setattr(bellman, "_CHOICES", bellman.weakref.WeakKeyDictionary())
            plain, other = FloatBellman(mdp, mdp.rewards["r"], beta), FloatBellman(mdp, mdp.rewards["c"], Fraction(1))
            assert (bellman.positions(mdp) is None) == (padding == 0.0)
            results.append([plain.optimal(w), plain.policy(layer, w), plain.selected_values(w, plain.select(mdp.choice_start[:-1] + local)),
                            plain.choice_values(w), other.optimal_plus(w, -1, plain, 0.3)])
            assert (bellman._CHOICES[mdp] is None) == (padding == 0.0)
    for (by_position, a), (in_pieces, b) in zip(*results):
        assert np.array_equal(by_position, in_pieces) and a == b


def test_layer_layouts_are_rebuilt_for_a_new_layer_object():
    """The layouts of policy layers are remembered by identity; a new layer with the same id
    (after the old one is gone) must not reuse the old layout."""
    from tests.support.mdps import random_mdp

    mdp = random_mdp(50)
    shared = ChoiceLayout(mdp)
    op, plain = shared.bellman(mdp.rewards["r"], Fraction(1, 2)), FloatBellman(mdp, mdp.rewards["r"], Fraction(1, 2))
    w = np.linspace(0, 1, mdp.n_states)
    for k in range(3):
        layer = PolicyLayer.deterministic(mdp, mdp.choice_start[:-1] + np.minimum(k, np.diff(mdp.choice_start) - 1))
        assert np.array_equal(op.policy(layer, w)[0], plain.policy(layer, w)[0])
        del layer
