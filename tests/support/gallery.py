"""What the gallery tests share: the committed certificates' numbers and Storm's exact answers."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from proofs.core.formula import Comparison, Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.interop import storm

ROOT = Path(__file__).resolve().parents[2]


def certificate(lemma_id: str) -> dict[str, Any]:
    """The committed certificate of a lemma of the example project."""
    doc: dict[str, Any] = json.loads((ROOT / "certificates" / f"{lemma_id}.json").read_text())
    return doc


def exact(enclosure: dict[str, str]) -> Fraction:
    """The value of an enclosure that must be a point (the exact path)."""
    assert enclosure["lo"] == enclosure["hi"], enclosure
    return Fraction(enclosure["lo"])


def storm_j_star(mdp: Mdp, objective: Objective) -> Fraction:
    """J* by Storm's exact engine (``R{"r"}max=? [C<=H]``)."""
    query = storm.storm_property(None, objective, "max", names=storm.storm_names(mdp))
    value: Fraction = storm.check_initial(storm.to_storm(mdp, exact=True), query, exact=True)
    return value


def storm_worst(mdp: Mdp, objective: Objective, constraint: Constraint, epsilon: Fraction,
                j_star: Fraction) -> Fraction:
    """The constraint's worst value over the policies with J >= J* - ε, by Storm's multi-objective
    engine at exact precision: the highest for <= and <, the lowest for >= and >."""
    names = storm.storm_names(mdp)
    optimise = "max" if constraint.comparison.is_upper else "min"
    query = storm.storm_multi(storm.storm_property(constraint, objective, optimise, names=names),
                              storm.storm_objective_bound(objective, Comparison.GE, j_star - epsilon, names=names))
    value: Fraction = storm.check_initial(storm.to_storm(mdp, exact=True), query, exact=True, multi_precision=0)
    return value


def assert_storm_agrees(values: dict[str, Any], mdp: Mdp, objective: Objective, desirable: tuple[Constraint, ...],
                        epsilon: Fraction) -> None:
    """A certificate's J*, and each constraint's worst value and verdict, are Storm's."""
    j_star = exact(values["j_star"])
    assert storm_j_star(mdp, objective) == j_star
    assert len(values["constraints"]) == len(desirable)
    for constraint, reported in zip(desirable, values["constraints"], strict=True):
        worst = exact(reported["worst"])
        assert storm_worst(mdp, objective, constraint, epsilon, j_star) == worst
        assert reported["holds"] is constraint.comparison.holds(worst, constraint.threshold)


def assert_storm_margin(mdp: Mdp, objective: Objective, desirable: tuple[Constraint, ...], margin: Fraction,
                        j_star: Fraction, past: Fraction) -> None:
    """ε* = inf{ε : the lemma fails}, by Storm: with <=/>= constraints every one holds at ε* and one
    sits exactly on its threshold, and `past` beyond ε* one fails; at ε* = 0 one fails already."""
    def worst_at(epsilon: Fraction) -> list[Fraction]:
        return [storm_worst(mdp, objective, c, epsilon, j_star) for c in desirable]

    if margin == 0:
        assert not all(c.comparison.holds(w, c.threshold) for c, w in zip(desirable, worst_at(margin), strict=True))
        return
    at = worst_at(margin)
    assert all(c.comparison.holds(w, c.threshold) for c, w in zip(desirable, at, strict=True))
    assert any(w == c.threshold for c, w in zip(desirable, at, strict=True))
    beyond = worst_at(margin + past)
    assert not all(c.comparison.holds(w, c.threshold) for c, w in zip(desirable, beyond, strict=True))
