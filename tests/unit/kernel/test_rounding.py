"""Rigorous interval arithmetic: every enclosure contains the exact rational result."""

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.core.numbers import Rationals
from proofs.kernel import rounding as iv

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
tiny_or_big = st.one_of(finite, st.floats(min_value=-1e-300, max_value=1e-300), st.sampled_from([0.1, 1 / 3, 2 / 3]))


@given(st.lists(st.tuples(st.fractions(min_value=0, max_value=1, max_denominator=10**9), tiny_or_big),
                min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_row_sum_encloses_exact_dot_product(pairs):
    probs = Rationals.from_fractions([p for p, _ in pairs])
    p_lo, p_hi = probs.enclosure()
    x = np.array([v for _, v in pairs], dtype=np.float64)
    lo, hi = iv.mul_nonneg(np.maximum(p_lo, 0), p_hi, x, x)
    s_lo, s_hi = iv.segment_sum(lo, hi, np.array([0, len(pairs)]))
    exact = sum((p * Fraction(float(v)) for p, v in pairs), Fraction(0))
    assert Fraction(float(s_lo[0])) <= exact <= Fraction(float(s_hi[0]))


@given(st.lists(st.fractions(max_denominator=10**12, min_value=-10, max_value=10), min_size=1, max_size=20))
def test_rationals_enclosure_contains_value(values):
    r = Rationals.from_fractions(values)
    lo, hi = r.enclosure()
    for v, a, b in zip(values, lo, hi):
        assert Fraction(float(a)) <= v <= Fraction(float(b))


def test_segment_sum_of_empty_segments_is_zero():
    lo, hi = iv.segment_sum(np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([0, 0, 2, 2]))
    assert lo[0] == hi[0] == 0 and lo[2] == hi[2] == 0 and lo[1] <= 3 <= hi[1]


def test_scale_nonneg_handles_negative_values():
    lo, hi = iv.scale_nonneg(0.5, 0.5, np.array([-1.0]), np.array([2.0]))
    assert lo[0] <= -0.5 and hi[0] >= 1.0
