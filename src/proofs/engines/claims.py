"""How an engine states a float-derived enclosure so that the kernel's re-computation lies inside.

UNTRUSTED: a claim only has to contain what the kernel finds; a wrong claim is a rejection.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

from proofs.core.enclosure import Enclosure

__all__ = ["EXPLICIT", "claim", "round_outward", "tails"]

EXPLICIT = 100_000   # the longest episode evaluated step by step when no tail decides (`tails`)


def round_outward(x: Fraction, up: bool, digits: int = 15) -> Fraction:
    """x rounded outward to `digits` significant decimal digits."""
    if x == 0:
        return x
    scale = Fraction(10) ** (math.floor(math.log10(abs(float(x)))) - digits + 1)
    k = x / scale
    return (math.ceil(k) if up else math.floor(k)) * scale


def claim(bound: Enclosure) -> Enclosure:
    """A float-derived bound widened each side, rounded outward: by twice its width, but by no more
    than 1e-9 relative (a wide enclosure, from a search stopped early, needs no more).

    Another machine's float sums may differ in their last bits, within the proved error: its
    kernel's bound then still lies inside this claim.
    """
    width = bound.hi - bound.lo
    pad = min(2 * width, Fraction(1, 10**9) * (1 + abs(bound.lo) + abs(bound.hi)))
    return Enclosure(round_outward(bound.lo - pad, up=False), round_outward(bound.hi + pad, up=True))


def tails(horizon: int, first: int = 256) -> Iterator[int]:
    """The tails K an engine tries, shortest first, on a long undiscounted episode of ``horizon``
    steps (the kernel evaluates the last K + 1 steps and bounds the rest by slopes): ``first``,
    then four times more while 4·K < H. A shorter tail gives tighter enclosures (each step's rounding is
    carried over the skipped steps) once the values have settled; a longer one lets them settle.
    Where none decides, H ≤ `EXPLICIT` is evaluated step by step and a longer episode is left open."""
    tail = first
    while 4 * tail < horizon:
        yield tail
        tail *= 4
