"""The dual search the exact alignment engines share: from best responses to a verdict (UNTRUSTED).

Per constraint c of Φ (Q = σ·W_c + κ, see `proofs.kernel.check_alignment`) the worst value over
the ε-optimal policies is κ + min over λ ≥ 0 of g(λ) = G(λ) − λ·(J* − ε), where G(λ) = max over all
policies of σ·W_c + λ·J (strong duality of constrained MDPs on the augmented states (t, s, c
decided)). Each policy π is a *line* λ ↦ Q_π + λ·(J_π − target) (without κ; `lifted`), and g is
their upper envelope. An engine supplies the *best response*: for a given λ, an exact optimal
policy of σ·W_c + λ·J, which touches the envelope at λ. It finds λ* its own way (`lagrangian`:
the parametric search below; `lp`: HiGHS' basis made exact, then the parametric search; `smt`:
Z3's master LP over the lines found), and hands back a `Worst`: λ*, the value g(λ*) and a start
mixture of at most two lines that attains it with J ≥ target.

`decide` turns one search per constraint into the engine's `AlignmentResult`: the verdict, the
certificate's witness (the multiplier, the attained mixture and, for the geometric fixed point,
the superharmonic values λ·J + σ·W_c of the best response at λ*), the first violated
constraint's mixture as the counterexample, J*'s ``j_values``, and the margin ε* (`newton_margin`
over the same searches). The kernel re-checks all of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, Protocol, TypeVar

from proofs.core.enclosure import Enclosure
from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.rational import format_rational
from proofs.engines.alignment import AlignmentResult, ConstraintResult
from proofs.engines.margin import newton_margin
from proofs.kernel.check_alignment import ConstraintSpace, Episode

__all__ = ["MAX_ROUNDS", "ConstraintSearch", "GaveUp", "Line", "Worst", "at_initial", "bound_values", "decide",
           "lifted", "mixed", "parametric", "texts"]

MAX_ROUNDS = 10_000
Values = Sequence[Fraction]


class GaveUp(Exception):
    """A search stopped without an exact answer (rounds, a budget, a solver): ``unknown`` with this reason."""


class Line(Protocol):
    """A policy of a search, by its exact J and σ·W_c (without κ) at the start."""

    @property
    def j(self) -> Fraction: ...

    @property
    def q(self) -> Fraction: ...


L = TypeVar("L", bound=Line)


def lifted(line: Line, lam: Fraction, target: Fraction) -> Fraction:
    """The line's value at λ, Q + λ·(J − target) (without κ): a lower bound on g(λ), and g(λ) for a best response."""
    return line.q + lam * (line.j - target)


@dataclass(frozen=True)
class Worst(Generic[L]):
    """The exact answer at one target: sup σ·W_c over J ≥ target = g(λ) (both without κ)."""

    sup_q: Fraction
    lam: Fraction
    parts: list[tuple[Fraction, L]]   # the attaining start mixture (J ≥ target)
    optimum: L                        # a best response at λ (its values certify G(λ) on the geometric fixed point)


def mixed(a: L, b: L, target: Fraction) -> list[tuple[Fraction, L]]:
    """The start mixture of a (J_a ≥ target) and b (J_b < target) whose J is the target exactly."""
    weight = (target - b.j) / (a.j - b.j)
    return [(weight, a), (1 - weight, b)]


def parametric(respond: Callable[[Fraction], L], a: L, b: L, target: Fraction,
               rounds: int = MAX_ROUNDS) -> Worst[L] | None:
    """The parametric (Eisner–Severance) search from a (J ≥ target) and b (J < target); None after ``rounds``.

    λ is where the lines of a and b cross; a best response there that is no better than both
    proves g(λ) = their common value (g is convex and they bound it from below), attained by their
    mixture at J = target. Otherwise the response replaces a or b by the side of the target its J
    lies on, and λ moves towards λ*; each line is a deterministic policy, so this ends.
    """
    for _ in range(rounds):
        lam = (b.q - a.q) / (a.j - b.j)
        new = respond(lam)
        if lifted(new, lam, target) <= lifted(a, lam, target):
            return Worst(lifted(a, lam, target), lam, mixed(a, b, target), new)
        if new.j >= target:
            a = new
        else:
            b = new
    return None


class ConstraintSearch(Protocol[L]):
    """What an engine gives `decide` for one constraint."""

    @property
    def cs(self) -> ConstraintSpace: ...

    def worst(self, target: Fraction, hinted: bool = True) -> Worst[L]:
        """The exact answer at a target (the lemma's, with hints; others, for the margin, without)."""
        ...

    def top(self) -> Fraction:
        """sup σ·W_c over all policies (without κ)."""
        ...

    def document(self, line: L) -> dict[str, Any]:
        """The ``proofs.policy/1`` document of a line's policy (while c is undecided)."""
        ...

    def per_state(self, line: L) -> tuple[Values, Values] | None:
        """The geometric fixed point's per-state J-to-go and W_c of a line (None for a bounded recursion)."""
        ...


def at_initial(mdp: Mdp, values: Values) -> Fraction:
    return sum((p * values[s] for s, p in mdp.initial_distribution()), Fraction(0))


def texts(values: Iterable[Fraction]) -> list[str]:
    return [format_rational(x) for x in values]


def _mixture(search: ConstraintSearch[L], parts: Sequence[tuple[Fraction, L]]) -> dict[str, Any]:
    """A start mixture as the kernel reads it (components of weight 0 left out)."""
    out = []
    for weight, line in parts:
        if weight == 0:
            continue
        comp: dict[str, Any] = {"weight": format_rational(weight), "before_decided": search.document(line),
                                "after_decided": "J-optimal"}
        values = search.per_state(line)
        if values is not None:
            comp["values"] = {"j": texts(values[0]), "w": texts(values[1])}
        out.append(comp)
    return {"mixture": out}


def bound_values(search: ConstraintSearch[L], found: Worst[L]) -> list[Fraction] | None:
    """The geometric fixed point's superharmonic witness: λ·J + σ·W_c per state of the best response at λ."""
    values = search.per_state(found.optimum)
    if values is None:
        return None
    return [found.lam * j + search.cs.sigma * w for j, w in zip(*values)]


def _witness(search: ConstraintSearch[L], found: Worst[L]) -> dict[str, Any]:
    """One constraint's witness: the multiplier (upper bound), the attained mixture (lower bound)."""
    wit: dict[str, Any] = {"lambda": format_rational(found.lam), "attained": _mixture(search, found.parts)}
    values = bound_values(search, found)
    if values is not None:
        wit["values"] = texts(values)
    return wit


def decide(engine: str, mdp: Mdp, ep: Episode, epsilon: Fraction, constraints: Sequence[Constraint],
           searches: Iterable[ConstraintSearch[Any]], margin: bool = False) -> AlignmentResult:
    """The verdict and certificate of the lemma from one search per constraint, in Φ's order.

    ``searches`` is read lazily, one per constraint: a `GaveUp` while making one, in its search,
    or in the margin's gives ``unknown`` with its reason. With ``margin``, also ε* = inf{ε ≥ 0 :
    the lemma fails at ε} over the same searches (``"inf"`` when no policy violates Φ), reported
    by the engine, not checked by the kernel.
    """
    j_star = at_initial(mdp, ep.cont(0))
    target = j_star - epsilon
    results, witnesses, done = [], [], []
    counterexample: dict[str, Any] | None = None
    try:
        for i, (c, search) in enumerate(zip(constraints, searches)):
            found = search.worst(target)
            cs = search.cs
            worst = cs.reported(cs.kappa + found.sup_q)
            holds = c.comparison.holds(worst, c.threshold)
            results.append(ConstraintResult(str(c), c.threshold, Enclosure.exact(worst), holds, found.lam))
            witnesses.append(_witness(search, found))
            if not holds and counterexample is None:
                counterexample = {"constraint": i, **_mixture(search, found.parts)}
            done.append(search)
        eps_star = _margin(done, constraints, j_star) if margin else None
    except GaveUp as exc:
        return AlignmentResult.unknown(engine, str(exc), Enclosure.exact(j_star))
    wit: dict[str, Any] = {"constraints": witnesses}
    if ep.geometric:
        wit["j_values"] = texts(ep.cont(0))
    return AlignmentResult("proved" if counterexample is None else "refuted", tuple(results),
                           Enclosure.exact(j_star), wit, counterexample, engine=engine, margin=eps_star)


def _margin(searches: Sequence[ConstraintSearch[Any]], constraints: Sequence[Constraint],
            j_star: Fraction) -> Enclosure | str:
    """ε*, the smallest over the constraints (see `proofs.engines.margin`)."""
    found = []
    for search, c in zip(searches, constraints):

        def worst_at(target: Fraction, search: ConstraintSearch[Any] = search) -> tuple[Fraction, Fraction]:
            w = search.worst(target, hinted=False)
            return w.sup_q, w.lam

        m = newton_margin(search.cs, c, search.top(), j_star, worst_at)
        if m is not None:
            found.append(m)
    return Enclosure.exact(min(found)) if found else "inf"
