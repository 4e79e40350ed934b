"""Exact sparse linear solves in `Fraction` arithmetic (Gaussian elimination on dict rows).

UNTRUSTED search helper: the results it produces are exact, and every use that matters for a
verdict is re-checked by substitution in the kernel.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

__all__ = ["solve_sparse"]


def solve_sparse(equations: list[tuple[dict[int, Fraction], Fraction]], n: int,
                 on_pivot: Callable[[int, dict[int, Fraction], Fraction], None] | None = None) -> list[Fraction]:
    """Solve Σ_j a_ij x_j = b_i for a square non-singular system given as sparse rows.

    Eliminates in row order choosing, for each row, the pivot among its remaining variables
    with the fewest occurrences (a cheap Markowitz rule that keeps MDP systems sparse).
    `on_pivot(rows, a, b)` is told, before each elimination step, how many other rows the
    normalised pivot row ``(a, b)`` is about to be subtracted from (a work budget may raise there).
    """
    rows = [(dict(a), b) for a, b in equations]
    occurs: dict[int, set[int]] = {}
    for i, (a, _) in enumerate(rows):
        for j in a:
            occurs.setdefault(j, set()).add(i)
    pivot_of: dict[int, int] = {}
    for i in range(len(rows)):
        a, b = rows[i]
        a = {j: v for j, v in a.items() if v != 0}
        if not a:
            raise ValueError("singular system")
        j = min(a, key=lambda k: (len(occurs.get(k, ())), k))
        piv = a[j]
        a = {k: v / piv for k, v in a.items()}
        b = b / piv
        rows[i] = (a, b)
        pivot_of[j] = i
        targets = [r for r in occurs.get(j, ()) if r != i]
        if on_pivot is not None:
            on_pivot(len(targets), a, b)
        for r in targets:
            ar, br = rows[r]
            f = ar.pop(j, Fraction(0))
            if f == 0:
                continue
            for k, v in a.items():
                if k == j:
                    continue
                nv = ar.get(k, Fraction(0)) - f * v
                if nv == 0:
                    ar.pop(k, None)
                    occurs.get(k, set()).discard(r)
                else:
                    ar[k] = nv
                    occurs.setdefault(k, set()).add(r)
            rows[r] = (ar, br - f * b)
        occurs[j] = {i}
    x = [Fraction(0)] * n
    for j, i in pivot_of.items():
        a, b = rows[i]
        assert list(a) == [j] or all(k == j for k in a), "elimination left a coupled row"
        x[j] = b
    return x
