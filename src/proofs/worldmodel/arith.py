"""Exact arithmetic on `Rationals` vectors: sums, scatters and per-choice expectations.

TRUSTED (reading base). Readers fold state rewards and expected transition rewards into r(s, a)
with these functions. Each has an int64 fast path, taken only when bounds computed with Python
integers (which never overflow) show that no intermediate value can reach 2**62; otherwise it
falls back to `Fraction`. Results are in lowest terms. `expected_decimals` folds columns of
decimals as read (`Decimals`) over a common power of ten, before anything is reduced.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import cast

import numpy as np
import numpy.typing as npt

from proofs.core.numbers import Rationals
from proofs.worldmodel.digits import FAST_DIGITS, Decimals, reduce_decimals

__all__ = ["add", "expected_decimals", "group_dot", "is_zero", "reduced", "scatter"]

_SAFE = 2**62
IntArray = npt.NDArray[np.int64]


def _max_abs(values: npt.NDArray[np.generic]) -> int:
    return (
        int(np.abs(values).max(initial=0))
        if values.dtype == np.int64
        else max((abs(int(v)) for v in values.tolist()), default=0)
    )


def _i64(values: npt.NDArray[np.generic]) -> IntArray:
    """The int64 array of a compact `Rationals` (checked by the caller with ``is_compact``)."""
    return cast(IntArray, values)


def reduced(num: IntArray, den: IntArray) -> Rationals:
    """``num / den`` (int64, ``den > 0``) in lowest terms.

    >>> reduced(np.array([2, 0]), np.array([4, 7])).fractions()
    [Fraction(1, 2), Fraction(0, 1)]
    """
    g = np.gcd(num, den)
    g[g == 0] = 1
    return Rationals(num // g, den // g)


def is_zero(values: Rationals) -> bool:
    """Whether every entry is 0."""
    return not np.any(values.num != 0)


def scatter(n: int, index: IntArray, values: Rationals) -> Rationals:
    """A vector of `n` zeros with ``values[i]`` placed at ``index[i]`` (indices distinct).

    >>> scatter(3, np.array([2]), Rationals.from_fractions([Fraction(1, 3)])).fractions()
    [Fraction(0, 1), Fraction(0, 1), Fraction(1, 3)]
    """
    if values.is_compact:
        num = np.zeros(n, dtype=np.int64)
        den = np.ones(n, dtype=np.int64)
        num[index], den[index] = values.num, values.den
        return Rationals(num, den)
    out = [Fraction(0)] * n
    for i, v in zip(index.tolist(), values.fractions()):
        out[i] = v
    return Rationals.from_fractions(out)


def add(a: Rationals, b: Rationals) -> Rationals:
    """Elementwise exact ``a + b``.

    >>> half, third = Rationals.from_fractions([Fraction(1, 2)]), Rationals.from_fractions([Fraction(1, 3)])
    >>> add(half, third).fractions()
    [Fraction(5, 6)]
    """
    if is_zero(b):
        return a
    if is_zero(a):
        return b
    if a.is_compact and b.is_compact:
        an, ad, bn, bd = _max_abs(a.num), _max_abs(a.den), _max_abs(b.num), _max_abs(b.den)
        if an * bd + bn * ad < _SAFE and ad * bd < _SAFE:
            a_num, a_den, b_num, b_den = _i64(a.num), _i64(a.den), _i64(b.num), _i64(b.den)
            return reduced(a_num * b_den + b_num * a_den, a_den * b_den)
    return Rationals.from_fractions([x + y for x, y in zip(a.fractions(), b.fractions())])


def group_dot(p: Rationals, r: Rationals, starts: IntArray) -> Rationals:
    """For each group ``starts[i]:starts[i+1]``, the exact sum of ``p[k] * r[k]``.

    Fast path: with D the lcm of the product denominators, every scaled product and every group
    sum is bounded (in Python integers) below 2**62, so int64 sums are exact. Group sums are
    differences of a running sum: int64 wraps modulo 2**64, and a difference of wrapped running
    sums equals the true group sum whenever that sum fits, which the bound guarantees.

    >>> p = Rationals.from_fractions([Fraction(1, 2), Fraction(1, 2), Fraction(1)])
    >>> r = Rationals.from_fractions([Fraction(3), Fraction(1, 3), Fraction(7)])
    >>> group_dot(p, r, np.array([0, 2, 2, 3])).fractions()
    [Fraction(5, 3), Fraction(0, 1), Fraction(7, 1)]
    """
    fast = _group_dot_int64(p, r, starts) if p.is_compact and r.is_compact else None
    if fast is not None:
        return fast
    pf, rf = p.fractions(), r.fractions()
    bounds = starts.tolist()
    return Rationals.from_fractions(
        [
            sum((pf[k] * rf[k] for k in range(bounds[i], bounds[i + 1])), Fraction(0))
            for i in range(len(bounds) - 1)
        ]
    )


def _group_dot_int64(p: Rationals, r: Rationals, starts: IntArray) -> Rationals | None:
    pn, pd, rn, rd = _max_abs(p.num), _max_abs(p.den), _max_abs(r.num), _max_abs(r.den)
    if pn * rn >= _SAFE or pd * rd >= _SAFE:
        return None
    num, den = _i64(p.num) * _i64(r.num), _i64(p.den) * _i64(r.den)
    common = 1
    for d in np.unique(den).tolist():
        common = math.lcm(common, int(d))
        if common >= _SAFE:
            return None
    longest = int(np.diff(starts).max(initial=0))
    magnitude = int((np.abs(num) // den).max(initial=0)) + 1  # |num/den| < magnitude
    if magnitude * common * max(longest, 1) >= _SAFE:
        return None
    scaled = num * (np.int64(common) // den)
    running = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(scaled)])
    sums = running[starts[1:]] - running[starts[:-1]]
    return reduced(sums, np.full(len(sums), common, dtype=np.int64))


_BLOCK = 1 << 16
_POW10 = np.array([10**k for k in range(FAST_DIGITS + 1)], dtype=np.int64)


def expected_decimals(
    p: Decimals, index: IntArray, r: Decimals, starts: IntArray, consume_r: bool = False
) -> Rationals:
    """For each group ``starts[i]:starts[i+1]`` of transitions, the exact sum of ``p[t] * r[t]``
    over its transitions t listed in `index` (increasing; ``r[k]`` belongs to ``index[k]``).

    Fast path, without reducing anything first: every p is ``P / 10**Ep`` and every r is
    ``R / 10**Er`` with int64 numerators over the columns' largest exponents, so a group's sum
    is ``Σ P·R / 10**(Ep + Er)``. When (in Python integers) max|P| · max|R| times the longest
    group is below 2**62 (`Decimals.largest_scaled`) and Ep + Er <= 18, the products and every group sum fit int64; the
    group sums are differences of a running sum, which wraps modulo 2**64 but gives every group
    sum exactly because each fits. The products are computed in blocks into one int64 per listed
    transition: a new array, or with `consume_r` R's own numerators (then `r` is used up: its
    numerators hold the running sums afterwards). Otherwise (values
    read one by one, such as 1/3, or bounds too large) the sum is `group_dot` on `Rationals`.

    >>> from fractions import Fraction
    >>> p = Decimals(np.array([5, 25, 1]), np.array([1, 2, 0], dtype=np.int8))  # 0.5, 0.25, 1
    >>> r = Decimals(np.array([3, 15]), np.array([0, 1], dtype=np.int8))        # 3, 1.5 on transitions 0, 2
    >>> expected_decimals(p, np.array([0, 2]), r, np.array([0, 2, 3])).fractions()
    [Fraction(3, 2), Fraction(3, 2)]
    """
    every = len(index) == len(p)  # index is then 0, 1, 2, ... (distinct and increasing)
    bounds = starts if every else np.searchsorted(index, starts)
    fast = _expected_int64(p, index, r, bounds, every, starts, consume_r)
    if fast is not None:
        return fast
    probability = p.rationals()
    return group_dot(probability if every else probability.take(index), r.rationals(), bounds)


def _expected_int64(
    p: Decimals, index: IntArray, r: Decimals, bounds: IntArray, every: bool, starts: IntArray, consume_r: bool
) -> Rationals | None:
    p_max, r_max = p.largest_scaled(), r.largest_scaled()
    if p_max is None or r_max is None:
        return None
    p_exp, r_exp = int(p.exp.max(initial=0)), int(r.exp.max(initial=0))
    longest = int(np.diff(starts).max(initial=0))
    if p_exp + r_exp > FAST_DIGITS or p_max * r_max * max(longest, 1) >= _SAFE:
        return None
    running = r.num if consume_r else np.empty(len(r), dtype=np.int64)
    for lo in range(0, len(r), _BLOCK):
        hi = min(lo + _BLOCK, len(r))
        rows = slice(lo, hi) if every else index[lo:hi]
        product = p.num[rows] * _POW10[p_exp - p.exp[rows]]
        product *= r.num[lo:hi] * _POW10[r_exp - r.exp[lo:hi]]
        running[lo:hi] = product
    np.cumsum(running, out=running)
    sums = _at(running, bounds[1:]) - _at(running, bounds[:-1])
    den = reduce_decimals(sums, np.full(len(sums), p_exp + r_exp, dtype=np.int8))
    return Rationals(sums, den)


def _at(running: IntArray, bounds: IntArray) -> IntArray:
    """The running sum before each bound (0 before the first element)."""
    if not len(running):
        return np.zeros(len(bounds), dtype=np.int64)
    out = running[np.maximum(bounds - 1, 0)]
    out[bounds == 0] = 0
    return out
