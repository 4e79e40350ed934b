"""Rigorous float interval arithmetic over sparse rows, for models too large for `Fraction`.

TRUSTED. The kernel's only numpy module. Every function returns float arrays ``lo <= true <= hi``
elementwise, given inputs that enclose their true values.

Soundness argument (IEEE 754 binary64, round to nearest, u = 2**-53):
- a product of two floats is within u·|result| of the exact product, plus at most 2**-1074 when
  it underflows;
- a sum of n floats, in any order, is within (n-1)·u·Σ|terms| of the exact sum, plus
  n·2**-1074 for underflow (Higham, Accuracy and Stability of Numerical Algorithms, §4.2).
We bound the total error of a row by ``E = 2·(n+2)·u·S + (n+2)·2**-1073`` where S is the float
sum of |terms| (S itself is rounded, so the factor 2 absorbs both its error and the u² terms),
subtract it from the lower and add it to the upper result, and finally step one ulp outward so
the subtraction's own rounding cannot cross the true value.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from proofs.core.numbers import segment_reduce

__all__ = ["TINY", "FloatArray", "U", "add", "mul_nonneg", "outward", "scale_nonneg", "segment_reduce", "segment_sum"]

FloatArray = npt.NDArray[np.float64]
U = 2.0**-53
TINY = 2.0**-1073


def outward(lo: FloatArray, hi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Step one ulp outward on both sides."""
    return np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)


def mul_nonneg(
    p_lo: FloatArray, p_hi: FloatArray, x_lo: FloatArray, x_hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Enclosure of p·x for p in [p_lo, p_hi] with p_lo >= 0 and x in [x_lo, x_hi].

    The products are rounded to nearest here; `segment_sum` accounts for their error (each term's
    relative error u is within the 2·(n+2)·u·S budget, which counts one u per term for the product).
    """
    lo = np.where(x_lo >= 0, p_lo * x_lo, p_hi * x_lo)
    hi = np.where(x_hi >= 0, p_hi * x_hi, p_lo * x_hi)
    return lo, hi


def segment_sum(
    lo: FloatArray, hi: FloatArray, starts: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """Enclosure of the sum of each segment ``[starts[i], starts[i+1])`` (empty segments: 0).

    The terms may carry one rounding each (from `mul_nonneg`); see the module docstring.
    """
    lengths = np.diff(starts).astype(np.float64)
    s_lo = segment_reduce(np.add, lo, starts, 0.0)
    s_hi = segment_reduce(np.add, hi, starts, 0.0)
    mag = segment_reduce(np.add, np.maximum(np.abs(lo), np.abs(hi)), starts, 0.0)
    err = 2.0 * (lengths + 2.0) * U * mag + (lengths + 2.0) * TINY
    out_lo, out_hi = outward(s_lo - err, s_hi + err)
    empty = lengths == 0
    out_lo[empty] = 0.0
    out_hi[empty] = 0.0
    return out_lo, out_hi


def add(
    a_lo: FloatArray, a_hi: FloatArray, b_lo: FloatArray, b_hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Enclosure of a + b: one rounding each side, covered by one ulp outward."""
    return outward(a_lo + b_lo, a_hi + b_hi)


def scale_nonneg(
    c_lo: float, c_hi: float, x_lo: FloatArray, x_hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Enclosure of c·x for c in [c_lo, c_hi], 0 <= c_lo."""
    lo = np.where(x_lo >= 0, c_lo * x_lo, c_hi * x_lo)
    hi = np.where(x_hi >= 0, c_hi * x_hi, c_lo * x_hi)
    lo, hi = outward(lo, hi)
    # a product that underflows may lose up to 2**-1074 absolute; one more TINY covers it
    return lo - TINY, hi + TINY
