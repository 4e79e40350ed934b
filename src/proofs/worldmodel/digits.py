"""Exact vectorised decoding of number tokens, and exact decimal columns.

TRUSTED (reading base). Used by `proofs.worldmodel.fastread`. A token ``[+-]digits[.digits]``
is read as the exact value ``num * 10**-exp`` with int64 ``num`` and int8 ``exp``; no value ever
passes through a binary float, and there is no Python object per token.

Tokens of at most 8 characters (every index below 10**8, and decimals such as ``0.394296``) are
decoded eight bytes at a time: the 8 bytes that end where the token ends are loaded as one
little-endian uint64 (the token's first character in the lowest byte that is kept), bytes before
the token are masked off, every kept byte is checked to be a digit (besides one optional leading
sign and at most one dot), the dot is squeezed out, and the digits are combined by three
multiply-and-shift steps (SWAR, "SIMD within a register"). Longer tokens, up to 18 digits and 20
characters, are decoded by a vectorised Horner scheme over their characters. At most 18 digits
keep every value below 10**18 < 2**63, so nothing overflows. Every other token (``1/3``,
``2.5e-1``, more digits) is flagged, to be read one by one with `parse_rational`.

A column of such numbers is a `Decimals`: the numerators and exponents, plus the few values read
one by one. `Decimals.rationals` reduces it to lowest terms with the 2- and 5-adic valuations of
the numerators (the denominator is a power of ten), never with a general gcd.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.numbers import Rationals

__all__ = [
    "FAST_DIGITS", "FAST_WIDTH", "LEAD", "TAIL", "Decimals", "decode_index", "decode_number", "reduce_decimals",
    "words",
]

FAST_DIGITS = 18
FAST_WIDTH = 20
LEAD = 8  # bytes before the first token of a padded chunk (a token's 8-byte word may start before it)
TAIL = FAST_WIDTH + 4  # bytes after the last token (a long token's character window may end after it)
_INT64_SAFE = 2**62

IntArray = npt.NDArray[np.int64]
ByteArray = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]

_HI = np.uint64(0xF0F0F0F0F0F0F0F0)
_LO = np.uint64(0x0F0F0F0F0F0F0F0F)
_DIGIT = np.uint64(0x3030303030303030)
_SIX = np.uint64(0x0606060606060606)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_DOTS = np.uint64(0x2E2E2E2E2E2E2E2E)
# _KEEP[L]: the top L bytes of a word, where a token of L characters sits when it ends at the word's end
_KEEP = np.array([(0xFFFFFFFFFFFFFFFF << (8 * (8 - n))) & 0xFFFFFFFFFFFFFFFF for n in range(9)], dtype=np.uint64)
_POW10 = np.array([10**k for k in range(FAST_DIGITS + 1)], dtype=np.int64)
_POW2 = np.array([2**k for k in range(FAST_DIGITS + 1)], dtype=np.int64)
_POW5 = np.array([5**k for k in range(FAST_DIGITS + 1)], dtype=np.int64)
_INV5 = np.uint64(0xCCCCCCCCCCCCCCCD)  # 5 * _INV5 == 1 (mod 2**64)
_MAX_OVER_5 = np.uint64((2**64 - 1) // 5)
_BLOCK = 1 << 16  # elements per step of the reductions: temporaries stay in the cache


def _words(pb: ByteArray) -> U64:
    """``pb`` as one (unaligned) little-endian uint64 starting at every byte offset."""
    return np.ndarray(shape=(len(pb) - 7,), dtype="<u8", buffer=pb, strides=(1,))


def _combine(digits: U64) -> U64:
    """The value of 8 decimal digits, one per byte (the most significant in the lowest byte)."""
    v = digits * np.uint64(10) + (digits >> np.uint64(8))  # pairs: 10 * d0 + d1 in every even byte
    a = (v & np.uint64(0x000000FF000000FF)) * np.uint64(100 + (1000000 << 32))
    b = ((v >> np.uint64(16)) & np.uint64(0x000000FF000000FF)) * np.uint64(1 + (10000 << 32))
    return (a + b) >> np.uint64(32)


def _all_digits(word: U64, kept: U64) -> BoolArray:
    """Whether every byte of `word` inside the byte mask `kept` is an ASCII digit (others are 0)."""
    ok: BoolArray = ((word & _HI) == (_DIGIT & kept)) & ((((word & _LO) + _SIX) & _HI) == 0)
    return ok


def decode_index(pb: ByteArray, start: IntArray, stop: IntArray) -> tuple[IntArray, BoolArray]:
    """Plain digit strings ``pb[start:stop]`` of at most 18 digits as int64; others are flagged not ok.

    `pb` holds at least `LEAD` bytes before and `TAIL` bytes after every token.
    """
    length = stop - start
    if len(length) and int(length.max()) <= 8:
        return _short_index(pb, stop, length)
    num = np.zeros(len(start), dtype=np.int64)
    ok = np.zeros(len(start), dtype=bool)
    short = np.flatnonzero(length <= 8)
    num[short], ok[short] = _short_index(pb, stop[short], length[short])
    long = np.flatnonzero((length > 8) & (length <= FAST_DIGITS))
    if len(long):
        value, _, fine = _horner(pb, start[long], stop[long], signed=False)
        num[long], ok[long] = value, fine
    return num, ok


def _short_index(pb: ByteArray, stop: IntArray, length: IntArray) -> tuple[IntArray, BoolArray]:
    kept = _KEEP[length]
    word = _words(pb)[stop - 8] & kept
    return _combine(word & _LO).astype(np.int64), _all_digits(word, kept)


def decode_number(
    pb: ByteArray, start: IntArray, stop: IntArray
) -> tuple[IntArray, npt.NDArray[np.int8], BoolArray]:
    """Tokens ``[+-]digits[.digits]`` as exact ``num * 10**-exp``; others are flagged not ok.

    A token with any other character, several dots, no digit, more than 18 digits or more than
    20 characters is flagged, to be read by `parse_rational`. `pb` holds at least `LEAD` bytes
    before and `TAIL` bytes after every token.
    """
    length = stop - start
    if len(length) and int(length.max()) <= 8:
        return _short_number(pb, start, stop, length)
    num = np.zeros(len(start), dtype=np.int64)
    exp = np.zeros(len(start), dtype=np.int8)
    ok = np.zeros(len(start), dtype=bool)
    short = np.flatnonzero(length <= 8)
    num[short], exp[short], ok[short] = _short_number(pb, start[short], stop[short], length[short])
    long = np.flatnonzero((length > 8) & (length <= FAST_WIDTH))
    if len(long):
        num[long], exp[long], ok[long] = _horner(pb, start[long], stop[long], signed=True)
    return num, exp, ok


def _short_number(
    pb: ByteArray, start: IntArray, stop: IntArray, length: IntArray
) -> tuple[IntArray, npt.NDArray[np.int8], BoolArray]:
    """`decode_number` for tokens of 1 to 8 characters, eight bytes at a time."""
    body = _KEEP[length]
    first = pb[start]
    negative = first == 45  # "-"
    signed = negative | (first == 43)  # "+"
    if np.any(signed):  # the sign's byte is the lowest kept byte: drop it from the body
        sign_byte = (signed.astype(np.uint64) * np.uint64(0xFF)) << (np.uint64(8) * (np.uint64(8) - length.astype(np.uint64)))
        body = body & ~sign_byte
    word = _words(pb)[stop - 8] & body
    z = word ^ (_DOTS & body)  # a zero byte inside the body where the token has a dot
    dots = ~(((z & _LOW7) + _LOW7) | z | _LOW7) & body  # 0x80 in every dot byte (exact: no carries)
    n_dots = np.bitwise_count(dots)
    onehot = dots >> np.uint64(7)  # with one dot: 1 << (8 * its byte)
    dot_byte = onehot * np.uint64(0xFF)
    word &= ~dot_byte
    ok = _all_digits(word, body & ~dot_byte) & (n_dots <= 1) & (length - signed - n_dots >= 1)
    below = onehot - (onehot != 0).astype(np.uint64)  # the bytes before the dot (none without a dot)
    word = ((word & below) << np.uint64(8)) | (word & ~below)  # squeeze the dot out
    after = ~(onehot << np.uint64(8)) + np.uint64(1)  # the bytes after the dot: -(onehot << 8)
    exp = (np.bitwise_count(after) >> 3).astype(np.int8)
    num = _combine(word & _LO).astype(np.int64)
    np.negative(num, out=num, where=negative)
    num[~ok] = 0
    exp[~ok] = 0
    return num, exp, ok


def _horner(
    pb: ByteArray, start: IntArray, stop: IntArray, signed: bool
) -> tuple[IntArray, npt.NDArray[np.int8], BoolArray]:
    """Tokens of up to `FAST_WIDTH` characters, one character position at a time (Horner's scheme).

    At most 18 digits keep the accumulation below 10**18 < 2**63: int64 never overflows on an
    ok token. Without `signed`, only digits are allowed (an index).
    """
    length = stop - start
    width = int(min(length.max(initial=0), FAST_WIDTH))
    columns = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(pb, max(width, 1))[start].T)
    num = np.zeros(len(start), dtype=np.int64)
    frac = np.zeros(len(start), dtype=np.int8)
    n_digits = np.zeros(len(start), dtype=np.int8)
    n_dots = np.zeros(len(start), dtype=np.int8)
    bad = length > FAST_WIDTH
    negative = np.zeros(len(start), dtype=bool)
    for j in range(width):
        inside = length > j
        c = columns[j]
        d = c - np.uint8(48)
        digit = inside & (d < 10)
        dot = inside & (c == 46) & signed
        other = inside & ~digit & ~dot
        if j == 0 and signed:
            negative = c == 45
            other &= ~(negative | (c == 43))
        bad |= other
        num = np.where(digit, num * 10 + d, num)
        frac += digit & (n_dots > 0)
        n_digits += digit
        n_dots += dot
    ok = ~bad & (n_dots <= 1) & (n_digits >= 1) & (n_digits <= FAST_DIGITS)
    np.negative(num, out=num, where=negative)
    num[~ok] = 0
    frac[~ok] = 0
    return num, frac, ok


def words(pb: ByteArray, start: IntArray, stop: IntArray) -> npt.NDArray[np.bytes_]:
    """The tokens ``pb[start:stop]`` as a fixed-width bytes array."""
    length = stop - start
    width = max(1, int(length.max(initial=1)))
    window = np.lib.stride_tricks.sliding_window_view(pb, width)[start]
    window = np.where(np.arange(width) < length[:, None], window, 0).astype(np.uint8)
    return np.ascontiguousarray(window).view(f"S{width}").reshape(len(start))


def reduce_decimals(num: IntArray, exp: npt.NDArray[np.integer]) -> IntArray:
    """Reduce ``num * 10**-exp`` to lowest terms: `num` is divided in place, the denominators returned.

    `exp` is in 0..18 and ``|num| < 2**63``. The gcd of ``num`` and ``10**exp`` is
    ``2**min(v2, exp) * 5**min(v5, exp)`` with v2, v5 the 2- and 5-adic valuations of ``num``: v2
    is the number of trailing zero bits, and dividing by 5 is multiplying by 5's inverse modulo
    2**64, exact when 5 divides (which the same product tells: ``u * inv5 <= (2**64 - 1) // 5``).
    Zero becomes 0/1. Works in blocks that stay in the cache.

    >>> num = np.array([394296, -250, 0, 7, 15614]); den = reduce_decimals(num, np.array([6, 2, 3, 0, 5]))
    >>> [f"{n}/{d}" for n, d in zip(num.tolist(), den.tolist())]
    ['49287/125000', '-5/2', '0/1', '7/1', '7807/50000']
    """
    den = np.empty(len(num), dtype=np.int64)
    for lo in range(0, len(num), _BLOCK):
        hi = min(lo + _BLOCK, len(num))
        num[lo:hi], den[lo:hi] = _reduce_block(num[lo:hi], exp[lo:hi].astype(np.int64))
    return den


def _reduce_block(num: IntArray, exp: IntArray) -> tuple[IntArray, IntArray]:
    magnitude = np.abs(num).view(np.uint64)  # |num| < 2**63
    low_bit = magnitude & (~magnitude + np.uint64(1))
    twos = np.minimum(np.bitwise_count(low_bit - np.uint64(1)).astype(np.int64), exp)  # zero: 64 -> exp
    magnitude >>= twos.astype(np.uint64)
    fives = np.zeros(len(num), dtype=np.int64)
    top = int(exp.max(initial=0))
    for _ in range(top):
        quotient = magnitude * _INV5
        divides = (quotient <= _MAX_OVER_5) & (fives < exp)
        if not np.any(divides):
            break
        magnitude = np.where(divides, quotient, magnitude)
        fives += divides
    reduced = magnitude.view(np.int64)
    np.negative(reduced, out=reduced, where=num < 0)
    return reduced, _POW2[exp - twos] * _POW5[exp - fives]


@dataclass(frozen=True, eq=False)
class Decimals:
    """A column of exact numbers: ``num[i] * 10**-exp[i]``, except at the indices of `exact`,
    whose values (read one by one: ``1/3``, ``2.5e-1``, long decimals) are given as fractions."""

    num: IntArray
    exp: npt.NDArray[np.int8]
    exact: list[tuple[int, Fraction]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.num.shape[0])

    def take(self, indices: npt.NDArray[np.integer]) -> Decimals:
        """The entries at `indices` (distinct), in that order."""
        if not self.exact:
            return Decimals(self.num[indices], self.exp[indices])
        where = {int(i): k for k, i in enumerate(np.asarray(indices).tolist())}
        exact = [(where[i], v) for i, v in self.exact if i in where]
        return Decimals(self.num[indices], self.exp[indices], sorted(exact))

    def rationals(self, in_place: bool = False) -> Rationals:
        """The values in lowest terms. With `in_place`, the numerators are reduced in this
        column's own array (which then no longer holds the decimal numerators)."""
        num = self.num if in_place else self.num.copy()
        den = reduce_decimals(num, self.exp)
        values = Rationals(num, den)
        return _patch(values, self.exact) if self.exact else values

    def largest_scaled(self) -> int | None:
        """The largest ``|num[i]| * 10**(E - exp[i])`` (E the largest exponent): every value is
        ``numerator / 10**E`` with numerators at most this in magnitude. None when there are
        values read one by one or a scaled numerator would reach 2**62 (checked exactly, entry by
        entry, before any product is formed)."""
        if self.exact:
            return None
        if not len(self):
            return 0
        top, largest = int(self.exp.max()), 0
        for lo in range(0, len(self), _BLOCK):
            magnitude = np.abs(self.num[lo : lo + _BLOCK])
            shift = top - self.exp[lo : lo + _BLOCK].astype(np.int64)
            if np.any(magnitude > _SCALE_LIMIT[shift]):
                return None
            largest = max(largest, int((magnitude * _POW10[shift]).max()))
        return largest


_SCALE_LIMIT = np.array([(_INT64_SAFE - 1) // 10**k for k in range(FAST_DIGITS + 1)], dtype=np.int64)


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
