"""Exact vectorised decoding of number tokens: ``[+-]digits[.digits]`` as ``num * 10**-exp``.

TRUSTED (reading base). Used by `proofs.worldmodel.fastread`. A token's characters are taken from a
padded chunk ``pb`` (the chunk starts at ``pb[1]``) through a sliding window, and decoded by a
vectorised Horner scheme in int64. At most 18 digits keep every value below 10**18 < 2**63, so
nothing overflows; tokens outside this fast form are flagged and read one by one with
`parse_rational`. No value ever passes through a binary float.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.numbers import Rationals

__all__ = ["FAST_DIGITS", "FAST_WIDTH", "decode_index", "decode_number", "exact_numbers", "words"]

FAST_DIGITS = 18
FAST_WIDTH = 20
_INT64_SAFE = 2**62

IntArray = npt.NDArray[np.int64]
ByteArray = npt.NDArray[np.uint8]


def decode_number(
    pb: ByteArray, s: IntArray, e: IntArray
) -> tuple[IntArray, npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """Vectorised exact decoding of ``[+-]digits[.digits]`` tokens as ``num * 10**-exp``.

    `s`, `e` are token bounds in chunk coordinates (``pb`` holds the chunk from index 1). A token
    with any other character, several dots, no digit, more than 18 digits or more than 20
    characters is flagged not ok, to be read by `parse_rational`. At most 18 digits keep the
    Horner accumulation below 10**18 < 2**63: int64 never overflows on an ok token.
    """
    length = e - s
    width = int(min(length.max(initial=0), FAST_WIDTH))
    window = np.lib.stride_tricks.sliding_window_view(pb, max(width, 1))[s + 1]
    columns = np.ascontiguousarray(window.T)
    num = np.zeros(len(s), dtype=np.int64)
    frac = np.zeros(len(s), dtype=np.int8)
    ndig = np.zeros(len(s), dtype=np.int8)
    ndot = np.zeros(len(s), dtype=np.int8)
    bad = length > FAST_WIDTH
    negative = np.zeros(len(s), dtype=bool)
    for j in range(width):
        inside = length > j
        c = columns[j]
        d = c - np.uint8(48)
        digit = inside & (d < 10)
        dot = inside & (c == 46)
        other = inside & ~digit & ~dot
        if j == 0:
            negative = c == 45
            other &= ~(negative | (c == 43))
        bad |= other
        num = np.where(digit, num * 10 + d, num)
        frac += digit & (ndot > 0)
        ndig += digit
        ndot += dot
    ok = ~bad & (ndot <= 1) & (ndig >= 1) & (ndig <= FAST_DIGITS)
    np.negative(num, out=num, where=negative)
    num[~ok] = 0
    frac[~ok] = 0
    return num, frac, ok


def decode_index(
    pb: ByteArray, s: IntArray, e: IntArray
) -> tuple[IntArray, npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """`decode_number` for plain digit strings of at most 18 digits (the usual index); others are flagged."""
    length = e - s
    width = int(min(length.max(initial=0), FAST_DIGITS))
    columns = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(pb, max(width, 1))[s + 1].T)
    num = np.zeros(len(s), dtype=np.int64)
    ok = length <= FAST_DIGITS
    for j in range(width):
        d = columns[j] - np.uint8(48)
        inside = length > j
        ok &= (d < 10) | ~inside
        num = np.where(inside, num * 10 + d, num)
    num[~ok] = 0
    return num, np.zeros(len(s), dtype=np.int8), ok


def words(pb: ByteArray, s: IntArray, e: IntArray) -> npt.NDArray[np.bytes_]:
    length = e - s
    width = max(1, int(length.max(initial=1)))
    window = np.lib.stride_tricks.sliding_window_view(pb, width)[s + 1]
    window = np.where(np.arange(width) < length[:, None], window, 0).astype(np.uint8)
    return np.ascontiguousarray(window).view(f"S{width}").reshape(len(s))


_POW10 = np.array([10**k for k in range(FAST_DIGITS + 1)], dtype=np.int64)


def exact_numbers(num: IntArray, exp: npt.NDArray[np.int8], exact: list[tuple[int, Fraction]]) -> Rationals:
    """``num * 10**-exp`` in lowest terms (in place on `num`), then the slow tokens patched in."""
    den = _POW10[exp]
    if len(num) and int(exp.max()) <= 9 and int(np.abs(num).max()) < 2**32:
        g = np.gcd(np.abs(num).astype(np.uint32), den.astype(np.uint32)).astype(
            np.int64
        )  # faster, same value
    else:
        g = np.gcd(num, den)
    g[g == 0] = 1
    np.floor_divide(num, g, out=num)
    np.floor_divide(den, g, out=den)
    values = Rationals(num, den)
    return _patch(values, exact) if exact else values


def _patch(values: Rationals, exact: list[tuple[int, Fraction]]) -> Rationals:
    """`values` with the entries at the given indices replaced by exact fractions."""
    if all(abs(v.numerator) < _INT64_SAFE and v.denominator < _INT64_SAFE for _, v in exact):
        for i, v in exact:
            values.num[i], values.den[i] = v.numerator, v.denominator
        return values
    fractions = values.fractions()
    for i, v in exact:
        fractions[i] = v
    return Rationals.from_fractions(fractions)
