"""Resolving the names of a property against a world model, and evaluating state formulas.

TRUSTED (reading base). `check_names` reports every quoted label that is not a label of the
model and every ``R{"c"}`` that is not one of its reward structures, against the obligation file
and key where the name is used, naming the model file it was looked up in. `state_mask` turns a
state formula into a boolean mask over the model's states, vectorised over the label masks.
"""

from __future__ import annotations

import ast
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
    errors += [InputError(where, problem, "Atoms such as s=9 or d1+d2>=N compare integer arithmetic (+, -, *) "
                          "over the variables of a PRISM-language model, integers, true, false and the "
                          "program's constants")
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
    """A name or literal of an atom: an integer, true/false, or an integer or boolean constant."""
    text = mdp.constants.get(text, text)
    if text in ("true", "false"):
        return int(text == "true")
    try:
        return int(text)
    except ValueError:
        return None


_ARITHMETIC = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply}


def _names(expression: str) -> list[str]:
    return [node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)]


def expression_values(mdp: Mdp, expression: str) -> npt.NDArray[np.int64] | int | None:
    """An atom side (``d1+d2``, ``N-1``, ``s``) in every state, or one integer when it names no
    variable; ``None`` when a name is neither a variable in every state nor an integer or boolean
    constant. The parser hands over canonical text of integers, names, ``+``, ``-`` and ``*``,
    which reads as a Python expression; only those nodes are evaluated (never ``eval``)."""

    def value(node: ast.expr) -> npt.NDArray[np.int64] | int | None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            constant = atom_value(mdp, node.id)
            return constant if constant is not None else valuation(mdp, node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = value(node.operand)
            return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            left, right = value(node.left), value(node.right)
            if left is None or right is None:
                return None
            result = _ARITHMETIC[type(node.op)](left, right)
            return int(result) if isinstance(result, (int, np.integer)) else result
        return None

    try:
        return value(ast.parse(expression, mode="eval").body)
    except SyntaxError:
        return None


def atom_mask(mdp: Mdp, atom: Atom) -> npt.NDArray[np.bool_]:
    """The states where ``left op right`` holds (see `proofs.spec.resolve.atom_problems`)."""
    left, right = expression_values(mdp, atom.variable), expression_values(mdp, atom.value)
    if left is None or right is None:
        raise ValueError(f"atom {atom} cannot be evaluated on this model")
    return np.broadcast_to(np.asarray(_RELATION[atom.op](left, right), dtype=bool), (mdp.n_states,)).copy()


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
    """What keeps the variable atoms of a formula (``s=9``, ``d1+d2=2``) from being evaluated on `mdp`."""
    problems = []
    for atom in dict.fromkeys(_atoms(formula)):
        for side in (atom.variable, atom.value):
            for name in dict.fromkeys(_names(side)):
                if atom_value(mdp, name) is None and valuation(mdp, name) is None:
                    problems.append(
                        f"{atom}: {name!r} is neither a variable in every state of {mdp.source or 'the model'} "
                        "nor an integer or boolean constant of the program (variables exist in PRISM-language "
                        "models only)")
    return problems
