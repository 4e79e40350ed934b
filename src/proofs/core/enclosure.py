"""Sound enclosures of real numbers: a closed interval [lo, hi] with exact rational ends.

TRUSTED. Every number `proofs` reports is an `Enclosure` (``lo == hi`` when exact). A verdict
is only drawn when the whole enclosure lies on one side of a threshold; an enclosure that
straddles it yields `unknown`, never a rounded verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from proofs.core.rational import format_rational, parse_rational

__all__ = ["Enclosure", "Side"]


@dataclass(frozen=True, order=False)
class Enclosure:
    """The closed interval [lo, hi] known to contain a real value."""

    lo: Fraction
    hi: Fraction

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"empty enclosure [{self.lo}, {self.hi}]")

    @classmethod
    def exact(cls, value: Fraction | int) -> Enclosure:
        v = Fraction(value)
        return cls(v, v)

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Enclosure:
        return cls(parse_rational(data["lo"]), parse_rational(data["hi"]))

    @property
    def is_exact(self) -> bool:
        return self.lo == self.hi

    @property
    def width(self) -> Fraction:
        return self.hi - self.lo

    @property
    def value(self) -> Fraction:
        """The exact value; only for exact enclosures."""
        if not self.is_exact:
            raise ValueError("the enclosure is not exact")
        return self.lo

    def __float__(self) -> float:   # the midpoint, to print or plot (decisions use lo and hi)
        return float((self.lo + self.hi) / 2)

    def __add__(self, other: Enclosure) -> Enclosure:
        return Enclosure(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Enclosure) -> Enclosure:
        return Enclosure(self.lo - other.hi, self.hi - other.lo)

    def __neg__(self) -> Enclosure:
        return Enclosure(-self.hi, -self.lo)

    def scale(self, factor: Fraction) -> Enclosure:
        a, b = self.lo * factor, self.hi * factor
        return Enclosure(min(a, b), max(a, b))

    def within(self, lo: Fraction | int, hi: Fraction | int) -> Enclosure:
        """The intersection with [lo, hi], for a value known to lie there (a probability in [0, 1]).

        Sound: the true value is in both intervals, so in their intersection; an enclosure
        outside [lo, hi] (impossible for a sound one) is returned unchanged rather than emptied.
        """
        new_lo, new_hi = max(self.lo, Fraction(lo)), min(self.hi, Fraction(hi))
        return Enclosure(new_lo, new_hi) if new_lo <= new_hi else self

    def complement(self) -> Enclosure:
        """Enclosure of 1 - x."""
        return Enclosure(1 - self.hi, 1 - self.lo)

    def hull(self, other: Enclosure) -> Enclosure:
        return Enclosure(min(self.lo, other.lo), max(self.hi, other.hi))

    def contains(self, value: Fraction) -> bool:
        return self.lo <= value <= self.hi

    def to_json(self) -> dict[str, str]:
        return {"lo": format_rational(self.lo), "hi": format_rational(self.hi)}

    def decimal(self, digits: int = 6) -> str:
        """Short human text, e.g. ``0.0712`` or ``[0.07119, 0.07121]``."""
        if self.is_exact:
            return _short(self.lo, digits)
        return f"[{_short(self.lo, digits)}, {_short(self.hi, digits)}]"

    def __str__(self) -> str:
        return self.decimal()


class Side:
    """Where an enclosure lies relative to a threshold."""

    BELOW, ABOVE, EQUAL, STRADDLES = "below", "above", "equal", "straddles"


def _short(value: Fraction, digits: int) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.{digits}g}"
    return text
