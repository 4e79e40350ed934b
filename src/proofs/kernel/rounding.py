"""The one model of float rounding error: every float bound in the package is argued from it.

TRUSTED. The kernel's checkers (`proofs.kernel.bellman`, `proofs.kernel.check_alignment_float`)
and the untrusted float code (`proofs.semantics.sound`, `proofs.semantics.unbounded_sound`,
`proofs.operators`) all take their error bounds from here, so the argument is made once.

IEEE 754 binary64, round to nearest; u = 2**-53 (`U`), τ = 2**-1074 the smallest subnormal
(`TAU`). Error bounds are exact `Fraction`s, rounded up to a float (`round_up`) when carried,
so no scalar rounding needs an argument of its own.

F1 (one operation). fl(a ∘ b) = (a ∘ b)·(1 + δ) + η with |δ| ≤ u, |η| ≤ τ/2 for × and /, and
   η = 0 for + and − (a sum that underflows is exact). So |fl(a + b) − (a + b)| ≤ u·|fl(a + b)|,
   and a product with an exact zero factor is an exact zero. Rounding is monotone: when |a·b| ≤
   |b|, |fl(a·b)| ≤ |b|.
F2 (conversion). ``Rationals.floats`` divides the float numerator by the float denominator.
   When every |numerator| and denominator is below 2**53 both convert exactly, the division is
   correctly rounded and |x| ≥ 2**-53 unless x = 0, so |f − x| ≤ u·|x| (no underflow); otherwise
   (three roundings, or `Fraction.__float__`) |f − x| ≤ 4u·|x| + τ (`Conversion`).
F3 (sums, Higham, Accuracy and Stability of Numerical Algorithms, (3.5) and (4.4)). With
   γ_k = k·u/(1 − k·u) (`gamma`): a float b plus k float products p_j·x_j, summed in any order
   and grouping, with or without fused multiply-adds, is within γ_{k+1}·(|b| + Σ|p_j·x_j|) + k·τ
   of the exact b + Σ p_j·x_j (the τ: each product may underflow by τ/2, and later additions
   scale that by at most 1 + γ_k ≤ 2); and no error at all when every term is an exact zero. A
   float sum S of k non-negative floats bounds their exact sum by S / (1 − γ_{k−1}).
F4 (products with the rows of a matrix, `Rows`). For exact rows p and their floats p̃ with
   σ ≥ Σ_j |p̃_j|, D ≥ Σ_j |p̃_j − p_j|, ρ ≥ Σ_j |p_j| and at most N entries, and for floats x̃
   with |x̃| ≤ M of exact x with |x̃ − x| ≤ e:
       |fl(b̃ + Σ_j p̃_j·x̃_j) − (b̃ + Σ_j p_j·x_j)| ≤ γ_{N+1}·(|b̃| + σ·M) + N·τ + D·M + ρ·e,
   by F3 and Σ p̃x̃ − Σ px = Σ (p̃ − p)·x̃ + Σ p·(x̃ − x).
F5 (outward). Stepping a float one ulp outward (``nextafter``) covers one rounding of it.

The interval operations below (`mul_nonneg`, `segment_sum`, `add`, `scale_nonneg`) return float
arrays ``lo <= true <= hi`` elementwise, given inputs that enclose their true values. A row of
n terms, each carrying one rounding of its product, is widened by
``E = 2·(n + 2)·u·S + (n + 2)·2**-1073`` with S the float sum of |terms|: by F3 the error is at
most γ_{n+1}·Σ|terms| + n·τ, and S itself is rounded, so the factor 2 absorbs both its error and
the u² terms; then a step outward (F5) covers the subtraction's own rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from proofs.core.numbers import Rationals, segment_reduce

__all__ = ["TAU", "TINY", "U", "Conversion", "FloatArray", "Rows", "add", "addition_error", "float_up",  # noqa: RUF022
           "gamma", "magnitude", "mul_nonneg", "outward", "product_error", "round_up", "row_sum_bound",
           "scale_nonneg", "segment_reduce", "segment_sum"]

FloatArray = npt.NDArray[np.float64]
U = Fraction(1, 2**53)
TAU = Fraction(1, 2**1074)
TINY = 2.0**-1073   # 2τ, as a float: the interval operations' allowance per term for underflow
_EXACT_INT = 2**53
_U = 2.0**-53


# -- scalars ----------------------------------------------------------------------------------
def gamma(k: int) -> Fraction:
    """Higham's γ_k = k·u / (1 − k·u), exactly (F3); an `ArithmeticError` when k·u ≥ 1."""
    if k * U >= 1:
        raise ArithmeticError("rows too long for the error analysis")
    return k * U / (1 - k * U)


def float_up(x: Fraction) -> float:
    """The least float ≥ x (``float`` of a `Fraction` is correctly rounded, so one step at most)."""
    f = float(x)
    return f if Fraction(f) >= x else math.nextafter(f, math.inf)


def round_up(x: Fraction) -> Fraction:
    """The least float ≥ x, as an exact `Fraction` (keeps carried error bounds short)."""
    return Fraction(float_up(x))


def magnitude(x: FloatArray) -> Fraction:
    """max |x_i| as an exact `Fraction` (0 for an empty x); an `ArithmeticError` for NaN or ∞."""
    top = float(np.max(np.abs(x), initial=0.0))
    if not math.isfinite(top):
        raise ArithmeticError("a float vector holds a NaN or infinite entry")
    return Fraction(top)


def addition_error(result_top: Fraction) -> Fraction:
    """|fl(a + b) − (a + b)| for sums whose floats are at most ``result_top`` in magnitude (F1)."""
    return U * result_top


def product_error(a: Fraction, a_error: Fraction, b_top: Fraction, b_error: Fraction) -> Fraction:
    """A bound on |fl(â·b̂) − a·b| for floats â, b̂ with |â − a| ≤ ``a_error``, |b̂| ≤ ``b_top`` and
    |b̂ − b| ≤ ``b_error``: the rounding u·|â·b̂| + τ/2 (F1; none when â or b̂ is an exact zero) plus
    |â − a|·|b̂| + |a|·|b̂ − b|."""
    rounding = U * (abs(a) + a_error) * b_top + TAU / 2 if b_top and (a or a_error) else Fraction(0)
    return rounding + a_error * b_top + abs(a) * b_error


# -- conversions and rows ---------------------------------------------------------------------
@dataclass(frozen=True)
class Conversion:
    """How far ``x.floats()`` may be from the exact x (F2): |f_i − x_i| ≤ relative·|x_i| + absolute."""

    relative: Fraction
    absolute: Fraction

    @classmethod
    def of(cls, x: Rationals) -> Conversion:
        if not len(x) or not np.any(x.num):
            return cls(Fraction(0), Fraction(0))   # exact zeros convert exactly
        if x.is_compact and int(np.max(np.abs(x.num))) < _EXACT_INT and int(np.max(x.den)) < _EXACT_INT:
            return cls(U, Fraction(0))
        return cls(4 * U, TAU)

    def error(self, top: Fraction) -> Fraction:
        """A bound on max_i |f_i − x_i| when max_i |f_i| ≤ ``top`` (then |x_i| ≤ (top + absolute) /
        (1 − relative))."""
        if not self.relative:
            return Fraction(0)
        return self.relative * (top + self.absolute) / (1 - self.relative) + self.absolute


def row_sum_bound(values: FloatArray, starts: npt.NDArray[np.int64], longest: int) -> Fraction:
    """A bound on the exact sum of every row of the non-negative floats ``values`` (F3)."""
    sums = segment_reduce(np.add, values, starts, 0.0)
    top = Fraction(float(np.max(sums, initial=0.0)))
    return top / (1 - gamma(longest - 1)) if longest > 1 else top


@dataclass(frozen=True)
class Rows:
    """What F4 needs to know of a matrix's rows and their floats p̃: ``longest`` ≥ entries of a row,
    ``weight`` σ ≥ Σ_j |p̃_j|, ``slack`` D ≥ Σ_j |p̃_j − p_j| and ``mass`` ρ ≥ Σ_j |p_j|."""

    longest: int
    weight: Fraction
    slack: Fraction
    mass: Fraction

    @classmethod
    def distributions(cls, longest: int, conversion: Conversion) -> Rows:
        """Rows of exact probabilities summing to 1 each (so ρ = 1), converted as ``conversion``
        says: D ≤ relative·1 + N·absolute, and σ ≤ ρ + D."""
        slack = conversion.relative + longest * conversion.absolute
        return cls(longest, 1 + slack, slack, Fraction(1))

    @classmethod
    def of_floats(cls, floats: FloatArray, starts: npt.NDArray[np.integer], conversion: Conversion) -> Rows:
        """Rows (CSR ``starts``) of any exact numbers from their floats, converted as ``conversion``
        says: σ from the float row sums of |p̃| (F3), ρ ≤ (σ + N·absolute) / (1 − relative) and
        D ≤ relative·ρ + N·absolute (F2)."""
        longest = int(np.diff(starts).max(initial=0))
        weight = row_sum_bound(np.abs(floats), starts.astype(np.int64, copy=False), longest)
        mass = (weight + longest * conversion.absolute) / (1 - conversion.relative)
        return cls(longest, weight, conversion.relative * mass + longest * conversion.absolute, mass)

    def error(self, constant: Fraction, top: Fraction, off: Fraction = Fraction(0)) -> Fraction:
        """F4: a bound on |fl(b̃ + Σ_j p̃_j·x̃_j) − (b̃ + Σ_j p_j·x_j)| for every row, when |b̃| ≤
        ``constant``, |x̃| ≤ ``top`` and |x̃ − x| ≤ ``off``. Exact zeros add no error."""
        n = self.longest
        rounding = gamma(n + 1) * (constant + self.weight * top) + (n * TAU if top else 0)
        return rounding + self.slack * top + self.mass * off


# -- interval operations ----------------------------------------------------------------------
def outward(lo: FloatArray, hi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Step one ulp outward on both sides (F5)."""
    return np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)


def mul_nonneg(
    p_lo: FloatArray, p_hi: FloatArray, x_lo: FloatArray, x_hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Enclosure of p·x for p in [p_lo, p_hi] with p_lo >= 0 and x in [x_lo, x_hi].

    The products are rounded to nearest here; `segment_sum` accounts for their error (each
    term's one rounding is within its budget, module docstring).
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
    err = 2.0 * (lengths + 2.0) * _U * mag + (lengths + 2.0) * TINY
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
