"""The policy-scoring function J: a reward structure, a horizon and a discount (SPEC §2).

TRUSTED (reading base).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from proofs.core.rational import format_rational

__all__ = ["Objective"]


@dataclass(frozen=True)
class Objective:
    """J(π) = E[Σ_{t<T} d^t r(s_t, a_t)].

    ``horizon`` is an integer H ≥ 1 (T = H, d = ``discount`` in (0, 1]) or ``None`` for the
    geometric horizon (P(T > t) = γ^t with γ = ``discount`` in (0, 1), and d = 1).
    """

    reward: str
    horizon: int | None
    discount: Fraction = Fraction(1)

    def __post_init__(self) -> None:
        if self.horizon is None:
            if not 0 < self.discount < 1:
                raise ValueError("a geometric horizon needs a discount in (0, 1)")
        else:
            if self.horizon < 1:
                raise ValueError("a finite horizon must be at least 1")
            if not 0 < self.discount <= 1:
                raise ValueError("a finite horizon needs a discount in (0, 1]")

    @property
    def is_geometric(self) -> bool:
        return self.horizon is None

    def __str__(self) -> str:
        if self.horizon is None:
            return f'R{{"{self.reward}"}}max [ geometric horizon, continue with probability {format_rational(self.discount)} ]'
        disc = "" if self.discount == 1 else f" discount={format_rational(self.discount)}"
        return f'R{{"{self.reward}"}}max=? [ C<={self.horizon}{disc} ]'
