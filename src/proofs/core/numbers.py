"""Vectors of exact rationals stored compactly, with float views and sound float enclosures.

TRUSTED. A `Rationals` holds numerators and denominators as two numpy arrays: ``int64`` when
every value fits (the common case: decimals such as 0.123456 from generated models), Python
integers in ``object`` arrays otherwise. Nothing here ever rounds silently: `floats` is an
approximation for untrusted search, `enclosure` a sound interval for checking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Rationals", "groups_sum_to_one", "group_sum", "least_common_denominator", "segment_reduce"]

_INT64_SAFE = 2**62
_FLOAT_EXACT = 2**53


@dataclass(frozen=True, eq=False)
class Rationals:
    """An immutable vector of exact rationals ``num[i] / den[i]`` with ``den[i] > 0``."""

    num: npt.NDArray[Any]
    den: npt.NDArray[Any]

    def __post_init__(self) -> None:
        if self.num.shape != self.den.shape or self.num.ndim != 1:
            raise ValueError("num and den must be one-dimensional arrays of equal length")

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_fractions(cls, values: Iterable[Fraction | int]) -> Rationals:
        fracs = [Fraction(v) for v in values]
        nums = [f.numerator for f in fracs]
        dens = [f.denominator for f in fracs]
        if all(abs(n) < _INT64_SAFE for n in nums) and all(d < _INT64_SAFE for d in dens):
            return cls(np.array(nums, dtype=np.int64), np.array(dens, dtype=np.int64))
        return cls(_object_array(nums), _object_array(dens))

    @classmethod
    def from_decimal_parts(cls, num: npt.NDArray[np.int64], exponent10: npt.NDArray[np.int64]) -> Rationals:
        """Values ``num * 10**-exponent10`` (exponent10 in 0..18), reduced to lowest terms."""
        den = np.power(np.int64(10), exponent10.astype(np.int64))
        g = np.gcd(num, den)
        g[g == 0] = 1
        return cls((num // g).astype(np.int64), (den // g).astype(np.int64))

    @classmethod
    def zeros(cls, n: int) -> Rationals:
        return cls(np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64))

    @classmethod
    def concatenate(cls, parts: Sequence[Rationals]) -> Rationals:
        if not parts:
            return cls.zeros(0)
        if all(p.num.dtype == np.int64 and p.den.dtype == np.int64 for p in parts):
            return cls(np.concatenate([p.num for p in parts]), np.concatenate([p.den for p in parts]))
        return cls.from_fractions([f for p in parts for f in p.fractions()])

    # -- access ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.num.shape[0])

    def __getitem__(self, index: int) -> Fraction:
        return Fraction(int(self.num[index]), int(self.den[index]))

    def take(self, indices: npt.NDArray[np.integer]) -> Rationals:
        return Rationals(self.num[indices], self.den[indices])

    def fractions(self) -> list[Fraction]:
        return [Fraction(int(n), int(d)) for n, d in zip(self.num.tolist(), self.den.tolist())]

    @property
    def is_compact(self) -> bool:
        return self.num.dtype == np.int64 and self.den.dtype == np.int64

    def floats(self) -> npt.NDArray[np.float64]:
        """Nearest-ish float approximations (for untrusted search only)."""
        if self.is_compact:
            return self.num.astype(np.float64) / self.den.astype(np.float64)
        return np.array([float(f) for f in self.fractions()], dtype=np.float64)

    def enclosure(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Float arrays ``lo <= value <= hi`` elementwise, guaranteed.

        Soundness: when |num| and den are below 2**53 both convert exactly and IEEE division is
        correctly rounded, so the quotient is within half an ulp; otherwise each conversion adds at
        most half an ulp more. Stepping two ulps outward covers both cases. Object arrays are
        converted by `Fraction.__float__`, which is correctly rounded.
        """
        q = self.floats()
        lo = np.nextafter(np.nextafter(q, -np.inf), -np.inf)
        hi = np.nextafter(np.nextafter(q, np.inf), np.inf)
        if self.is_compact:
            exact = (np.abs(self.num) < _FLOAT_EXACT) & (self.den < _FLOAT_EXACT) & (self.den == 1)
            lo = np.where(exact, q, lo)
            hi = np.where(exact, q, hi)
        return lo, hi

    def all_nonnegative(self) -> bool:
        return bool(np.all(self.num >= 0))

    def negative_indices(self) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.num < 0)

    def canonical_text(self, index: int) -> str:
        n, d = int(self.num[index]), int(self.den[index])
        return str(n) if d == 1 else f"{n}/{d}"


def _object_array(values: list[int]) -> npt.NDArray[np.object_]:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def least_common_denominator(den: npt.NDArray[Any], limit: int) -> int | None:
    """The lcm of the denominators, or None once it reaches `limit` (computed in Python integers)."""
    common = 1
    for d in np.unique(den).tolist():
        common = math.lcm(common, int(d))
        if common >= limit:
            return None
    return common


def groups_sum_to_one(values: Rationals, starts: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """For each group ``values[starts[i]:starts[i+1]]``, whether its exact sum is exactly 1.

    Fast path: when every denominator divides a common D with 4·D below 2**62, the numerators
    scaled to D are summed in int64. Groups whose float sum of absolute values reaches 1.5 are
    wrong whatever their exact sum and are left out of the integer sum, so every summed group
    has Σ|scaled| < 1.5·D + rounding < 2**62: no overflow. Otherwise the sums are exact `Fraction`s.
    """
    n_groups = len(starts) - 1
    empty = starts[:-1] == starts[1:]
    if values.is_compact and len(values):
        common = least_common_denominator(values.den, _INT64_SAFE // 4)
        if common is not None:
            small = segment_reduce(np.add, np.abs(values.floats()), starts, 0.0) < 1.5
            scaled = values.num * (np.int64(common) // values.den)
            scaled = np.where(np.repeat(small, np.diff(starts)), scaled, 0)
            sums = segment_reduce(np.add, scaled, starts, 0)
            exact_one: npt.NDArray[np.bool_] = (sums == common) & small & ~empty
            return exact_one
    fr = values.fractions()
    bounds = starts.tolist()
    return np.array(
        [sum(fr[bounds[i] : bounds[i + 1]], Fraction(0)) == 1 for i in range(n_groups)], dtype=bool
    )


def group_sum(values: Rationals, start: int, stop: int) -> Fraction:
    """The exact sum of ``values[start:stop]`` (for error messages and small models)."""
    return sum((values[i] for i in range(start, stop)), Fraction(0))


def segment_reduce(
    ufunc: np.ufunc, values: npt.NDArray[Any], starts: npt.NDArray[np.int64], empty: float = 0
) -> npt.NDArray[Any]:
    """``ufunc.reduce`` over each segment ``values[starts[i]:starts[i+1]]``; ``empty`` for empty ones.

    (``ufunc.reduceat`` alone returns a neighbouring element for an empty segment.)
    """
    n_seg = len(starts) - 1
    nonempty = starts[1:] > starts[:-1]
    out = np.full(n_seg, empty, dtype=np.result_type(values.dtype, np.asarray(empty).dtype))
    if np.any(nonempty):
        out[nonempty] = ufunc.reduceat(values[: int(starts[-1])], starts[:-1][nonempty])
    return out
