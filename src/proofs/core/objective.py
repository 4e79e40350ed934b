"""The policy-scoring function J: a reward structure, a horizon and a discount (SPEC §2).

TRUSTED (reading base).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from proofs.core.rational import format_rational, parse_rational

__all__ = ["Objective"]


@dataclass(frozen=True, init=False)
class Objective:
    """J(π) = E[Σ_{t<T} d^t r(s_t, a_t)], for the reward structure ``reward``.

    ``horizon`` is an integer H ≥ 1 (T = H, d = ``discount`` in (0, 1]) or ``"geometric"``, stored
    as ``None`` (P(T > t) = γ^t with γ = ``discount`` in (0, 1), and d = 1). ``discount`` is exact:
    a `Fraction`, an ``int`` or text (``"19/20"``, ``"0.95"``).

    >>> print(Objective("score", horizon="geometric", discount="19/20"))
    R{"score"}max [ geometric horizon, continue with probability 19/20 ]
    """

    reward: str
    horizon: int | None
    discount: Fraction

    def __init__(self, reward: str, horizon: int | Literal["geometric"] | None, discount: Fraction | int | str = 1) -> None:
        if isinstance(horizon, bool) or not (horizon in (None, "geometric") or isinstance(horizon, int)) or \
                isinstance(discount, bool) or not isinstance(discount, (Fraction, int, str)):
            raise ValueError(f"expected an integer horizon or \"geometric\" and an exact discount, got {horizon!r}, "
                             f"{discount!r}")
        object.__setattr__(self, "reward", reward)
        object.__setattr__(self, "horizon", None if horizon == "geometric" else horizon)
        object.__setattr__(self, "discount", parse_rational(discount) if isinstance(discount, str) else Fraction(discount))
        self.__post_init__()

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
