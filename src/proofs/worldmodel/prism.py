"""Reader for the PRISM language (``.prism``, ``.nm``, ``.pm``) through Storm's builder (stormpy).

TRUSTED (reading base), with Storm as the model builder: stormpy is imported lazily and only here,
and the built model is read with exact rationals (``build_model[stormpy.Rational]``, or
``RationalInterval`` for programs with interval updates) and then validated like every other
format. States are named by their valuation ``x=1,y=2`` (variables in declaration order), actions
by the command's action label, else by the local choice index; μ₀ is uniform over the initial
states. Storm gives deadlock states a self-loop, as PRISM does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from proofs.errors import InputError, InputErrors, Location
from proofs.kernel.rational import ExpressionError, parse_rational
from proofs.worldmodel.build import ChoiceData, ModelData, StateData, build_mdp
from proofs.worldmodel.model import Mdp
from proofs.worldmodel.prism_limit import check_parse, check_state_space
from proofs.worldmodel.prism_lines import command_lines

__all__ = ["read_prism"]

_INSTALL_FIX = "Install the storm extra: pip install 'proofs[storm]'"
_UNNAMED_REWARD = "r"


def read_prism(path: Path, constants: Mapping[str, str] | None = None) -> Mdp:
    """Build a PRISM-language model with Storm and read it exactly into a validated `Mdp`.

    `constants` gives the program's undefined constants as text (``{"N": "4"}``), as PRISM's and
    Storm's ``-const N=4`` do: an ``int`` constant takes an integer, a ``double`` an exact rational,
    a ``bool`` ``true`` or ``false``.

    Raises
    ------
    InputError, InputErrors
        stormpy is missing, the program does not parse (with its line), has undefined constants,
        is not an MDP or DTMC, or the built model fails validation.
    """
    try:
        import stormpy
    except ImportError:
        raise InputError(
            Location(path), "reading the PRISM language needs stormpy, which is not installed", _INSTALL_FIX
        ) from None
    from stormpy.exceptions import StormError

    failures = (RuntimeError, StormError)  # Storm's C++ exceptions arrive as RuntimeError
    program = _parse(stormpy, path, failures, constants or {})
    model = _build(stormpy, program, path, failures)
    try:
        data = _model_data(model, program, path)
    except ExpressionError as exc:  # Storm computed a number beyond the exact reader's size limits
        raise InputError(Location(path), f"Storm built a number too large to read exactly: {exc}",
                         "Use smaller constants, probabilities and rewards") from None
    return build_mdp(data)


def _storm_error(path: Path, exc: Exception, what: str) -> InputError:
    message = str(exc).strip()
    found = re.search(r"at (\d+):(\d+)", message)
    first = message.splitlines()[0] if message else type(exc).__name__
    first = re.sub(r"^\w+Exception:\s*", "", first)
    first = re.sub(r",?\s*here:\s*$", "", first).strip().rstrip(".")
    return InputError(
        Location(path, line=int(found.group(1)) if found else None),
        f"{what}: {first}",
        "Correct the PRISM program",
    )


def _parse(stormpy: Any, path: Path, failures: tuple[type[Exception], ...],
           constants: Mapping[str, str]) -> Any:
    check_parse(stormpy, path)  # Storm's parser can kill the process (SIGFPE on `const int W = 0/0;`)
    try:
        program = stormpy.parse_prism_program(str(path))
    except failures as exc:
        raise _storm_error(path, exc, "the PRISM program does not parse") from None
    if constants:
        program = _define_constants(stormpy, program, path, constants)
    if program.has_undefined_constants:
        names = ", ".join(c.name for c in program.get_undefined_constants())
        raise InputError(
            Location(path),
            f"constants without a value: {names}",
            f"Give them with --const {names.split(', ')[0]}=… on the command line, [worldmodel] constants = "
            "{…} in the obligation, or a value in the program (const int N = 4;)",
        )
    kind = program.model_type.name
    if kind not in {"MDP", "DTMC"}:
        raise InputError(Location(path), f"a {kind} is not an MDP", "Write the model as an mdp (or dtmc)")
    return program


def _define_constants(stormpy: Any, program: Any, path: Path, constants: Mapping[str, str]) -> Any:
    """The program with its undefined constants set (every problem reported at once)."""
    manager = program.expression_manager
    undefined = {c.name: c for c in program.get_undefined_constants()}
    defined = {c.name for c in program.constants} - set(undefined)
    values: dict[Any, Any] = {}
    problems = []
    for name, text in constants.items():
        where = Location(path, key=f"constant {name}")
        if name in defined:
            problems.append(InputError(where, f"constant {name!r} already has a value in the program",
                                       "Remove it from the given constants, or its definition from the program"))
            continue
        if name not in undefined:
            known = ", ".join(sorted(undefined)) or "none"
            problems.append(InputError(where, f"the program has no undefined constant {name!r} "
                                       f"(undefined constants: {known})", "Correct the name"))
            continue
        try:
            values[undefined[name].expression_variable] = _constant_value(
                stormpy, manager, str(undefined[name].type), text)
        except ValueError as exc:
            problems.append(InputError(where, str(exc), "Give an integer for int, a number such as 1/10 "
                                       "for double, true or false for bool"))
    InputErrors.raise_if_any(problems)
    return program.define_undefined_constants(values).substitute_constants()


def _constant_value(stormpy: Any, manager: Any, kind: str, text: str) -> Any:
    text = text.strip()
    if kind == "bool":
        if text not in ("true", "false"):
            raise ValueError(f"a bool constant needs true or false, got {text!r}")
        return manager.boolean(text == "true")
    try:
        value = parse_rational(text)
    except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
        raise ValueError(f"{text!r} is not a number ({exc})") from None
    if kind == "int":
        if value.denominator != 1:
            raise ValueError(f"an int constant needs an integer, got {text!r}")
        return manager.integer(value.numerator)
    return manager.rational(stormpy.Rational(f"{value.numerator}/{value.denominator}"))


def _build(stormpy: Any, program: Any, path: Path, failures: tuple[type[Exception], ...]) -> Any:
    check_state_space(stormpy, program, path)  # before Storm's builder can exhaust memory
    options = stormpy.BuilderOptions(build_full=True)
    try:
        return stormpy.build_model[stormpy.Rational](program, options=options)
    except failures as exc:
        if "interval" not in str(exc):
            raise _storm_error(path, exc, "Storm could not build the model") from None
    try:
        return stormpy.build_model[stormpy.RationalInterval](program, options=options)
    except failures as exc:
        raise _storm_error(path, exc, "Storm could not build the model") from None


def _exact(value: Any) -> Fraction | tuple[Fraction, Fraction]:
    """A Storm rational (or interval) as exact `Fraction`s, through its exact decimal text."""
    if hasattr(value, "lower") and hasattr(value, "upper"):
        lo, hi = parse_rational(str(value.lower())), parse_rational(str(value.upper()))
        return lo if lo == hi else (lo, hi)
    return parse_rational(str(value))


def _point(value: Any, path: Path, what: str) -> Fraction:
    exact = _exact(value)
    if isinstance(exact, tuple):
        raise InputError(Location(path), f"{what} is an interval {exact}", "Give rewards as exact numbers")
    return exact


def _variable_order(program: Any, path: Path) -> list[str]:
    """Variable names in declaration order: by the position of ``name :`` declarations in the source."""
    names = [v.name for v in (*program.global_boolean_variables, *program.global_integer_variables)]
    for module in program.modules:
        names += [v.name for v in (*module.boolean_variables, *module.integer_variables)]
    text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8", errors="replace"))

    def position(item: tuple[int, str]) -> tuple[int, int]:
        pattern = rf"(?<![\w']){re.escape(item[1])}\s*:\s*(\[|bool\b|int\b|clock\b)"
        found = re.search(pattern, text)
        return (found.start() if found else len(text), item[0])

    return [name for _, name in sorted(enumerate(names), key=position)]


def _state_names(model: Any, order: list[str]) -> list[str]:
    valuations = model.state_valuations
    names = []
    for s in range(model.nr_states):
        values = json.loads(str(valuations.to_json(s))) or {}  # null for a program without variables
        parts = [f"{v}={_text(values[v])}" for v in order if v in values]
        parts += [f"{v}={_text(values[v])}" for v in values if v not in order]
        names.append(",".join(parts))
    return names


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _rewards(model: Any, path: Path) -> dict[str, list[Fraction]]:
    """Per reward structure, r per choice: state reward + state-action reward + Σ P · transition reward."""
    out: dict[str, list[Fraction]] = {}
    matrix = model.transition_matrix
    for name, structure in model.reward_models.items():
        label = name or _UNNAMED_REWARD
        if label in out:
            raise InputError(
                Location(path), f"two reward structures are named {label!r}", "Name them differently"
            )
        rewards = [Fraction(0)] * model.nr_choices
        if structure.has_state_rewards:
            for s, value in enumerate(structure.state_rewards):
                for c in range(matrix.get_row_group_start(s), matrix.get_row_group_end(s)):
                    rewards[c] += _point(value, path, f"a state reward of {label!r}")
        if structure.has_state_action_rewards:
            for c, value in enumerate(structure.state_action_rewards):
                rewards[c] += _point(value, path, f"a choice reward of {label!r}")
        if structure.has_transition_rewards:
            transition_rewards = structure.transition_rewards  # keep a reference: rows do not own the matrix
            for c in range(model.nr_choices):
                prob = {e.column: _point(e.value, path, "a probability") for e in matrix.get_row(c)}
                for e in transition_rewards.get_row(c):
                    rewards[c] += prob.get(e.column, Fraction(0)) * _point(
                        e.value, path, f"a reward of {label!r}"
                    )
        out[label] = rewards
    return out


def _choice_lines(model: Any, program: Any, path: Path) -> Callable[[int], int | None]:
    """The source line of (the first command making) each choice, where it can be told."""
    lines = command_lines(program, path.read_text(encoding="utf-8", errors="replace"))
    if not lines or not model.has_choice_origins():
        return lambda choice: None
    origins = model.choice_origins

    def line_of(choice: int) -> int | None:
        found = [lines[i] for i in origins.get_command_set(choice) if i in lines]
        return min(found) if found else None

    return line_of


def _model_data(model: Any, program: Any, path: Path) -> ModelData:
    names = _state_names(model, _variable_order(program, path))
    matrix = model.transition_matrix
    rewards = _rewards(model, path)
    labels = sorted(model.labeling.get_labels())
    has_labels = model.has_choice_labeling()
    line_of = _choice_lines(model, program, path)
    states = []
    for s, name in enumerate(names):
        choices = []
        for k, c in enumerate(range(matrix.get_row_group_start(s), matrix.get_row_group_end(s))):
            tags = sorted(model.choice_labeling.get_labels_of_choice(c)) if has_labels else []
            action = ",".join(tags) if tags else str(k)
            where = Location(path, line=line_of(c), key=f"state {name}, action {action}")
            successors = tuple((e.column, _exact(e.value)) for e in matrix.get_row(c))
            choices.append(ChoiceData(action, successors, where, {r: v[c] for r, v in rewards.items()}))
        state_labels = tuple(sorted(model.labeling.get_labels_of_state(s)))
        states.append(StateData(name, tuple(choices), Location(path, key=f"state {name}"), {}, state_labels))
    initial = [int(s) for s in model.initial_states]
    return ModelData(
        str(path),
        tuple(states),
        tuple((s, Fraction(1, len(initial))) for s in initial),
        Location(path, key="init"),
        tuple(rewards),
        tuple(labels),
        number_repeated_actions=True,
        constants={c.name: str(c.definition) for c in program.constants if c.defined},
    )
