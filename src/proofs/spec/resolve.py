"""Resolving the names of a property against a world model, and evaluating state formulas.

TRUSTED (reading base). `check_names` reports every quoted label that is not a label of the
model and every ``R{"c"}`` that is not one of its reward structures, against the obligation file
and key where the name is used, naming the model file it was looked up in. `state_mask` turns a
state formula into a boolean mask over the model's states, vectorised over the label masks.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from proofs.core.errors import InputError, Location
from proofs.core.formula import (
    And,
    Atom,
    Constraint,
    Label,
    Not,
    Or,
    RewardConstraint,
    StateFormula,
    Truth,
    labels_of,
)
from proofs.core.model import Mdp
from proofs.core.objective import Objective

__all__ = ["check_names", "check_objective", "state_mask"]

BoolArray = npt.NDArray[np.bool_]


def _listing(names: Iterable[str]) -> str:
    ordered = sorted(names)
    return ", ".join(f'"{n}"' for n in ordered) if ordered else "none"


def _model_name(mdp: Mdp) -> str:
    return mdp.source if mdp.source is not None else "the world model"


def _unknown_label(name: str, mdp: Mdp, where: Location) -> InputError:
    return InputError(
        where,
        f'unknown label "{name}": {_model_name(mdp)} has no such label (labels: {_listing(mdp.labels)})',
        "Use one of the model's labels, or add the label to the world model",
    )


def _unknown_reward(name: str, mdp: Mdp, where: Location, usage: str) -> InputError:
    return InputError(
        where,
        f'unknown reward structure "{name}" in {usage}: {_model_name(mdp)} has no such reward structure '
        f"(reward structures: {_listing(mdp.rewards)})",
        "Use one of the model's reward structures, or add it to the world model",
    )


def check_names(constraint: Constraint, mdp: Mdp, where: Location) -> list[InputError]:
    """Every name of `constraint` that `mdp` does not define, as input errors.

    Parameters
    ----------
    constraint
        One constraint of the desirability Φ.
    mdp
        The world model the names are looked up in (``mdp.source`` is named in messages).
    where
        The obligation file and key the constraint is written at.

    Returns
    -------
    list of InputError
        Empty when every label and reward structure exists; otherwise one error per unknown
        name (labels in sorted order, then the reward structure), each listing the names
        the model does define.

    Examples
    --------
    >>> from proofs.spec.parse import parse_constraint
    >>> where = Location("obligations/a.toml", key='lemma."a".desirable[0]')
    >>> mdp = _example_mdp()
    >>> [e.problem for e in check_names(parse_constraint('P<=0 [ F "goal" ]', where), mdp, where)]
    []
    >>> print(check_names(parse_constraint('P<=0 [ F "gaol" ]', where), mdp, where)[0].problem)
    unknown label "gaol": m.toml has no such label (labels: "goal")
    """
    missing = sorted(name for name in labels_of(constraint) if name not in mdp.labels)
    errors = [_unknown_label(name, mdp, where) for name in missing]
    errors += [InputError(where, problem, "Atoms such as s=9 name a variable of a PRISM-language model and "
                          "compare it with an integer, true, false or one of the program's constants")
               for problem in atom_problems(constraint, mdp)]
    if isinstance(constraint, RewardConstraint) and constraint.reward not in mdp.rewards:
        errors.append(_unknown_reward(constraint.reward, mdp, where, f'R{{"{constraint.reward}"}}'))
    return errors


def check_objective(objective: Objective, mdp: Mdp, where: Location) -> list[InputError]:
    """The objective's reward structure, if `mdp` does not define it, as an input error.

    Parameters
    ----------
    objective
        The policy-scoring function J of an obligation file.
    mdp
        The world model J is evaluated on.
    where
        The obligation file and key of the reward name (``objective.reward``).

    Returns
    -------
    list of InputError
        Empty, or one error naming the model file and listing its reward structures.
    """
    if objective.reward in mdp.rewards:
        return []
    return [_unknown_reward(objective.reward, mdp, where, "the objective")]


def state_mask(mdp: Mdp, formula: StateFormula) -> BoolArray:
    """The states of `mdp` that satisfy `formula`, as a fresh boolean array.

    Parameters
    ----------
    mdp
        The world model; its ``labels`` give one boolean mask per label.
    formula
        A state formula whose labels have been checked with `check_names`.

    Returns
    -------
    numpy.ndarray of bool, shape (n_states,)
        A new array (never one of the model's own masks), so callers may modify it.

    Raises
    ------
    KeyError
        If the formula mentions a label the model does not define (run `check_names` first).

    Examples
    --------
    >>> state_mask(_example_mdp(), Or(Not(Label("goal")), Truth(False)))
    array([ True, False])
    """
    if isinstance(formula, Label):
        if formula.name not in mdp.labels:
            raise KeyError(f'unknown label "{formula.name}" (labels: {_listing(mdp.labels)})')
        return np.array(mdp.labels[formula.name], dtype=np.bool_, copy=True)
    if isinstance(formula, Truth):
        return np.full(mdp.n_states, formula.value, dtype=np.bool_)
    if isinstance(formula, Not):
        return np.logical_not(state_mask(mdp, formula.operand))
    if isinstance(formula, And):
        return np.logical_and(state_mask(mdp, formula.left), state_mask(mdp, formula.right))
    if isinstance(formula, Or):
        return np.logical_or(state_mask(mdp, formula.left), state_mask(mdp, formula.right))
    if isinstance(formula, Atom):
        return atom_mask(mdp, formula)
    raise TypeError(f"not a state formula: {formula!r}")

_RELATION = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
             ">": np.greater, ">=": np.greater_equal}


def valuation(mdp: Mdp, variable: str) -> npt.NDArray[np.int64] | None:
    """A PRISM variable's value in every state (booleans as 0/1), read from the state names
    ``x=1,b=true`` of a PRISM-language model; ``None`` when some state does not name it."""
    values = np.empty(mdp.n_states, dtype=np.int64)
    prefix = variable + "="
    for s, name in enumerate(mdp.states):
        for part in name.split(","):
            if part.startswith(prefix):
                text = part[len(prefix):]
                values[s] = 1 if text == "true" else 0 if text == "false" else int(text)
                break
        else:
            return None
    return values


def atom_value(mdp: Mdp, text: str) -> int | None:
    """An atom's right-hand side: an integer, true/false, or an integer or boolean constant."""
    text = mdp.constants.get(text, text)
    if text in ("true", "false"):
        return int(text == "true")
    try:
        return int(text)
    except ValueError:
        return None


def atom_mask(mdp: Mdp, atom: Atom) -> npt.NDArray[np.bool_]:
    """The states where ``variable op value`` holds (see `proofs.spec.resolve.check_names`)."""
    values, rhs = valuation(mdp, atom.variable), atom_value(mdp, atom.value)
    if values is None or rhs is None:
        raise ValueError(f"atom {atom} cannot be evaluated on this model")
    return np.asarray(_RELATION[atom.op](values, rhs), dtype=bool)



def _example_mdp() -> Mdp:
    """Two states ``a``, ``b`` (``b`` labelled ``goal``), one self-loop each: for the doctests."""
    from proofs.core.numbers import Rationals

    ones = Rationals.from_fractions([1, 1])
    return Mdp(
        states=("a", "b"), choice_start=np.array([0, 1, 2]), action_names=("stay",),
        choice_action=np.zeros(2, dtype=np.int32), row_start=np.array([0, 1, 2]), target=np.array([0, 1]),
        probability=ones, rewards={"r": ones}, labels={"goal": np.array([False, True])},
        initial_states=np.array([0]), initial_probability=Rationals.from_fractions([1]), source="m.toml",
    )


def _atoms(f: object) -> list[Atom]:
    if isinstance(f, Atom):
        return [f]
    found: list[Atom] = []
    for name in ("operand", "left", "right", "body", "path", "target"):
        part = getattr(f, name, None)
        if part is not None:
            found += _atoms(part)
    return found


def atom_problems(formula: object, mdp: Mdp) -> list[str]:
    """What keeps the variable atoms of a formula (``s=9``) from being evaluated on `mdp`."""
    problems = []
    for atom in dict.fromkeys(_atoms(formula)):
        if valuation(mdp, atom.variable) is None:
            problems.append(f"{atom}: {mdp.source or 'the model'} has no variable {atom.variable!r} in every "
                            "state (variables exist in PRISM-language models only)")
        elif atom_value(mdp, atom.value) is None:
            problems.append(f"{atom}: {atom.value!r} is neither an integer, true, false nor an integer or "
                            "boolean constant of the program")
    return problems
