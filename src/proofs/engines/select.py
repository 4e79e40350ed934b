"""Which engine discharges a lemma: the names users write, and what ``auto`` picks (UNTRUSTED).

Names (SPEC §5 ``engine = ...``, ``[tool.proofs] engine``, ``proofs prove --engine``):

alignment lemmas
    ``lagrangian``: the parametric search over the Lagrange multiplier; exact (Fractions) when the
    horizon restriction of the model has at most `EXACT_LIMIT` transitions × steps, float search
    with sound claims beyond it (finite horizons). ``lp``: the occupation-measure linear program
    (HiGHS) made exact. ``smt``: Z3 over the value variables of the bounded unrolling.
policy lemmas
    ``bellman``: sound bounds on J(π₀) and J* (`proofs.engines.policy`).

``auto`` is ``lagrangian`` for alignment lemmas (the one engine that scales like value iteration;
its exact path is the reference the others are tested against) and ``bellman`` for policy
lemmas. A name that belongs to the other kind of lemma (a project-wide ``engine = "lp"`` seen by
a policy lemma) means ``auto`` there.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from proofs.core.formula import Constraint
from proofs.core.model import Mdp
from proofs.core.objective import Objective
from proofs.engines.alignment import AlignmentResult

__all__ = ["ALIGNMENT_ENGINES", "ENGINE_NAMES", "POLICY_ENGINES", "alignment_engine", "discharge_alignment"]

ALIGNMENT_ENGINES = {"lagrangian": "proofs.engines.lagrangian", "lp": "proofs.engines.lp",
                     "smt": "proofs.engines.smt"}
POLICY_ENGINES = ("bellman",)
ENGINE_NAMES = ("auto", *ALIGNMENT_ENGINES, *POLICY_ENGINES)


def alignment_engine(name: str | None) -> str:
    """The alignment engine a name stands for (``auto``, None or a policy engine: ``lagrangian``)."""
    return name if name in ALIGNMENT_ENGINES else "lagrangian"


def discharge_alignment(mdp: Mdp, objective: Objective, epsilon: Fraction, constraints: Sequence[Constraint], *,
                        engine: str | None = "auto", margin: bool = False,
                        hints: Mapping[str, Any] | None = None) -> AlignmentResult:
    """Run the named (or automatically chosen) alignment engine."""
    module = importlib.import_module(ALIGNMENT_ENGINES[alignment_engine(engine)])
    result: AlignmentResult = module.discharge_alignment(mdp, objective, epsilon, constraints, margin=margin,
                                                         hints=hints)
    return result
