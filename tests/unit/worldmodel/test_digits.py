"""Exact decimal decoding (the 8-byte path and Horner's), reduction by valuations, and the
integer fold of transition rewards, each against `Fraction` arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from proofs.worldmodel.arith import expected_decimals
from proofs.worldmodel.digits import LEAD, TAIL, Decimals, decode_index, decode_number, reduce_decimals


def padded(tokens: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tokens one after another with a space between, padded as `fastread` pads a chunk."""
    text = " ".join(tokens).encode()
    pb = np.full(LEAD + len(text) + TAIL, 32, dtype=np.uint8)
    pb[LEAD : LEAD + len(text)] = np.frombuffer(text, dtype=np.uint8)
    lengths = np.array([len(t) for t in tokens], dtype=np.int64)
    start = LEAD + np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
    return pb, start, start + lengths


@st.composite
def decimal_tokens(draw: st.DrawFn) -> str:
    """``[+-]digits[.digits]`` with 1 to 18 digits: every one must be decoded without the slow path."""
    whole = draw(st.text("0123456789", max_size=10))
    fraction = draw(st.text("0123456789", max_size=18 - len(whole)))
    if not whole + fraction:
        whole = "0"
    dot = "." if fraction else draw(st.sampled_from(["", "."]))
    return draw(st.sampled_from(["", "", "-", "+"])) + whole + dot + fraction


@settings(max_examples=300, deadline=None)
@given(st.lists(decimal_tokens(), min_size=1, max_size=50))
def test_decimal_tokens_are_decoded_exactly_on_the_fast_paths(tokens: list[str]) -> None:
    pb, start, stop = padded(tokens)
    num, exp, ok = decode_number(pb, start, stop)
    assert ok.all(), [t for t, fine in zip(tokens, ok.tolist()) if not fine]
    assert [Fraction(int(n), 10 ** int(e)) for n, e in zip(num.tolist(), exp.tolist())] == [
        Fraction(t) for t in tokens
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**18 - 1), min_size=1, max_size=50))
def test_indices_are_decoded_exactly(values: list[int]) -> None:
    pb, start, stop = padded([str(v) for v in values])
    num, ok = decode_index(pb, start, stop)
    assert ok.all() and num.tolist() == values


def test_flagged_tokens() -> None:
    tokens = ["1.2.3", "-", ".", "+-1", "1e5", "1-2", "12345678901234567890", "0.1234567890123456789", "1/3"]
    pb, start, stop = padded(tokens)
    assert not decode_number(pb, start, stop)[2].any()
    pb, start, stop = padded(["-1", "1.0", "1234567890123456789", "a"])
    assert not decode_index(pb, start, stop)[1].any()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-(10**18) + 1, 10**18 - 1), st.integers(0, 18)), min_size=1, max_size=40))
def test_reduction_by_valuations_gives_lowest_terms(pairs: list[tuple[int, int]]) -> None:
    num = np.array([n for n, _ in pairs], dtype=np.int64)
    den = reduce_decimals(num, np.array([e for _, e in pairs], dtype=np.int8))
    expected = [Fraction(n, 10**e) for n, e in pairs]
    assert num.tolist() == [f.numerator for f in expected]
    assert den.tolist() == [f.denominator for f in expected]


decimal_values = st.tuples(st.integers(-(10**9), 10**9), st.integers(0, 9))
values = st.one_of(
    decimal_values.map(lambda p: ("decimal", p)),
    st.fractions(min_value=-5, max_value=5, max_denominator=97).map(lambda f: ("exact", f)),
    st.tuples(st.integers(10**17, 10**18 - 1), st.integers(0, 1)).map(lambda p: ("decimal", p)),
)


def column(items: list[tuple[str, object]]) -> tuple[Decimals, list[Fraction]]:
    num, exp, exact, fractions = [], [], [], []
    for i, (kind, value) in enumerate(items):
        if kind == "decimal":
            n, e = value  # type: ignore[misc]
            num.append(n)
            exp.append(e)
            fractions.append(Fraction(n, 10**e))
        else:
            num.append(0)
            exp.append(0)
            exact.append((i, value))
            fractions.append(value)  # type: ignore[arg-type]
    return Decimals(np.array(num, dtype=np.int64), np.array(exp, dtype=np.int8), exact), fractions


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_expected_rewards_are_exact_sums_of_products(data: st.DataObject) -> None:
    sizes = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=8))
    n = sum(sizes)
    p, p_exact = column(data.draw(st.lists(values, min_size=n, max_size=n)))
    listed = sorted(data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n))) if n else []
    if data.draw(st.booleans()):
        listed = list(range(n))
    r, r_exact = column(data.draw(st.lists(values, min_size=len(listed), max_size=len(listed))))
    starts = np.cumsum([0, *sizes]).astype(np.int64)
    reward = dict(zip(listed, r_exact))
    expected = [
        sum((p_exact[t] * reward.get(t, 0) for t in range(int(starts[g]), int(starts[g + 1]))), Fraction(0))
        for g in range(len(sizes))
    ]
    consume = data.draw(st.booleans())  # the products may overwrite r's numerators
    got = expected_decimals(p, np.array(listed, dtype=np.int64), r, starts, consume_r=consume)
    assert got.fractions() == expected


def test_the_fold_of_six_digit_decimals_stays_in_int64() -> None:
    p = Decimals(np.array([394296, 449564, 15614, 1]), np.array([6, 6, 5, 0], dtype=np.int8))
    r = Decimals(np.array([61019, 61019, 61019]), np.array([5, 5, 5], dtype=np.int8))
    got = expected_decimals(p, np.array([0, 1, 2]), r, np.array([0, 3, 4]))
    assert got.is_compact
    assert got.fractions() == [Fraction("0.61019"), 0]
