"""Choosing the exact or the float path by what exact arithmetic will cost, numbers' size included.

Exact values gain about log2(common denominator) bits per step of a finite horizon, and Fraction
arithmetic slows down with them: on a 1,000-transition model with six-digit decimal probabilities,
H = 200 took 3.1 s exactly (23 µs per transition-step) against 1.2 s (8 µs) for the same size
with probabilities in twentieths, and a zeroconf lemma took 10 s at H = 200 and 0.5 s as a float
enclosure at H = 201. The work estimate counts that growth, so the path no longer flips on
transitions × steps alone.
"""

from fractions import Fraction

from tests.support.mdps import grid_mdp, make_mdp, random_mdp

from proofs.semantics.evaluate import EXACT_LIMIT, denominator_bits, exact_work, use_exact


def test_bits_per_step_follow_the_common_denominator() -> None:
    halves = make_mdp(["s", "t"], {"s": [("go", {"s": "1/2", "t": "1/2"})], "t": [("stay", {"t": 1})]})
    assert denominator_bits(halves) == 1
    assert denominator_bits(halves, Fraction(9, 10)) == 3             # lcm(2, 10) = 10: floor(log2 10)
    deterministic = make_mdp(["s"], {"s": [("stay", {"s": 1})]})
    assert denominator_bits(deterministic) == 0
    assert denominator_bits(random_mdp(60)) == 19                       # six-digit decimals: 10**6


def test_large_numbers_make_the_same_size_float() -> None:
    decimals, twentieths = random_mdp(60), grid_mdp(8)
    assert abs(decimals.n_transitions - twentieths.n_transitions) < 10   # the same size (689, 685)
    assert decimals.n_transitions * 200 <= EXACT_LIMIT >= twentieths.n_transitions * 200
    assert use_exact(twentieths, 200, None)
    assert not use_exact(decimals, 200, None)                       # 19 bits a step: ~2.9x the work
    assert use_exact(decimals, 50, None)                            # short horizons stay exact
    assert exact_work(decimals, None) < EXACT_LIMIT   # geometric, 60 states: exact


def test_exact_elimination_on_a_geometric_horizon_is_counted() -> None:
    """Policy iteration solves linear systems exactly: about n³ steps on numbers growing with n.
    200 states of six-digit decimals took 93 s exactly (a policy lemma in the tests took 3 minutes);
    such a model now takes the enclosure, and 50 states (0.3 s) stay exact."""
    nine_tenths = Fraction(9, 10)
    assert use_exact(random_mdp(50), None, None, discount=nine_tenths)
    assert not use_exact(random_mdp(200), None, None, discount=nine_tenths)
    assert exact_work(random_mdp(200), None, nine_tenths) > 50 * EXACT_LIMIT


def test_an_explicit_mode_wins() -> None:
    assert use_exact(random_mdp(60), 200, True) and not use_exact(grid_mdp(8), 10, False)
