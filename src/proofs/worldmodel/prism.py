"""Reader for the PRISM language (``.prism``, ``.nm``, ``.pm``) through Storm's builder (stormpy).

TRUSTED (reading base), with Storm as the model builder: stormpy is imported lazily and only here,
and the built model is read with exact rationals (``build_model[stormpy.Rational]``, or
``RationalInterval`` for programs with interval updates) and then validated like every other
format. The program is built once, in the forked child that guards the state limit
(`prism_limit`), which writes the model out as a DRN file (Storm's own exporter, exact
rationals), its variables' values and its label and reward names; this process reads them with
the vectorised DRN reader (`_read_export`). Where that route does not apply (transition rewards,
no fork, a model the DRN reader leaves to the careful reader, a problem to report with its line),
the model is built here and read entry by entry (`_read_model`); both give the same `Mdp`
(tested). States are named by their valuation ``x=1,y=2`` (variables in declaration order), actions
by the command's action label, else by the local choice index; μ₀ is uniform over the initial
states. Storm gives deadlock states a self-loop, as PRISM does.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs.core.errors import InputError, InputErrors, Location
from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.core.rational import ExpressionError, parse_rational
from proofs.worldmodel.build import assemble_mdp
from proofs.worldmodel.drn_fast import Nowhere, read_drn_stream
from proofs.worldmodel.prism_limit import Export, check_parse, check_state_space
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
    try:
        with tempfile.TemporaryDirectory(prefix="proofs-prism-") as folder:
            drn = Path(folder) / "model.drn"   # a named pipe: the child writes, this process reads at once
            rewards: list[str] = []   # the child's reward names, found once (stormpy copies them per access)
            helper = _Valuations(stormpy, program, Path(folder))
            export = Export(drn, functools.partial(_export, stormpy, path, Path(folder), rewards),
                            lambda stream, sizes: read_drn_stream(stream, sizes, drn),
                            functools.partial(_export_rest, helper, Path(folder), rewards), helper.begin)
            arrays = check_state_space(stormpy, program, path, export)  # before Storm's builder can exhaust memory
            if arrays is not None:
                mdp = _read_export(Path(folder), program, path, arrays)
                if mdp is not None:
                    return mdp
        model = _build(stormpy, program, path, failures)
        return _read_model(model, program, path)
    except ExpressionError as exc:  # Storm computed a number beyond the exact reader's size limits
        raise InputError(Location(path), f"Storm built a number too large to read exactly: {exc}",
                         "Use smaller constants, probabilities and rewards") from None


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


_INTERVAL_UPDATE = re.compile(r"\[[^\[\]:;]*,[^\[\]:;]*\]\s*:")
"""``[0.6, 0.9]:`` in a command: an interval update (an action label ``[go]`` has no comma)."""


def _build(stormpy: Any, program: Any, path: Path, failures: tuple[type[Exception], ...]) -> Any:
    options = stormpy.BuilderOptions(build_full=True)
    try:   # an interval program goes straight to the interval builder (the other one prints an error)
        if not _INTERVAL_UPDATE.search(path.read_text(errors="replace")):
            return stormpy.build_model[stormpy.Rational](program, options=options)
    except failures as exc:
        if "interval" not in str(exc):
            raise _storm_error(path, exc, "Storm could not build the model") from None
    try:
        return stormpy.build_model[stormpy.RationalInterval](program, options=options)
    except failures as exc:
        raise _storm_error(path, exc, "Storm could not build the model") from None


_NO_LABEL = "__NOLABEL__"  # Storm's DRN name for a choice without an action label


def _export(stormpy: Any, path: Path, folder: Path, rewards: list[str], model: Any) -> bool:
    """In the child: write `model` as DRN into ``model.drn``, the named pipe the parent reads as
    it is written (`_export_rest` follows, given the reward names found here in `rewards`).
    False where the DRN route does not apply."""
    structures = model.reward_models
    rewards.extend(structures)
    if any(s.has_transition_rewards for s in structures.values()) or _NO_LABEL in path.read_text(errors="replace"):
        return False  # DRN has no transition rewards; an action named like Storm's "no label"
    stormpy.io.export_to_drn(model, str(folder / "model.drn"))
    return True


def _export_rest(helper: _Valuations, folder: Path, rewards: list[str], model: Any) -> bool:
    """In the child, once the pipe is closed (the parent finishes reading meanwhile): the
    variables' values (``valuations.npz``: the model's own, or `_Valuations`'s) and
    ``manifest.json`` last, for `_read_export`."""
    variables = _write_valuations(model, folder) if model.has_state_valuations() else helper.collect(model)
    if variables is None:
        return False
    manifest = {"states": int(model.nr_states), "labels": sorted(model.labeling.get_labels()),
                "rewards": rewards, "variables": variables}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return True


def _write_valuations(model: Any, folder: Path) -> dict[str, str] | None:
    """``valuations.npz`` from the model's state valuations (arr_0, arr_1, … in the order of the
    returned variables, name → "bool" or "int"); None for a variable of another type."""
    variables: dict[str, str] = {}
    columns: dict[str, npt.NDArray[Any]] = {}
    if model.has_state_valuations():
        valuations = model.state_valuations
        for variable in valuations.get_all_variables():
            name = variable.name
            if variable.has_boolean_type():
                mask = np.zeros(model.nr_states, dtype=bool)
                mask[np.fromiter(valuations.get_boolean_values(variable), dtype=np.int64)] = True
                variables[name], columns[name] = "bool", mask
            elif variable.has_integer_type():
                variables[name] = "int"
                columns[name] = np.array(valuations.get_int64_values(variable), dtype=np.int64)
            else:
                return None
    with (folder / "valuations.npz").open("wb") as out:
        np.savez(out, *columns.values())
    return variables


class _Valuations:
    """The variables' values for an exact model built without them (`proofs.worldmodel.prism_limit`:
    a fifth less building, half the DRN text): a float build with them, in a helper process the
    exporting child forks just before its exact build, so the two run side by side.

    Storm explores both builds in the same order, which `collect` checks: the same numbers of
    states, choices and transitions, and the same states under every label. They differ where a
    probability is 0 in one arithmetic only; then the careful route reads the model."""

    def __init__(self, stormpy: Any, program: Any, folder: Path) -> None:
        self.stormpy, self.program, self.folder = stormpy, program, folder
        self.pid = 0

    def begin(self) -> None:
        """In the exporting child: fork the helper, which writes ``valuations.npz`` and ``float.json``."""
        self.pid = os.fork()
        if self.pid:
            return
        try:
            os.closerange(3, 1 << 16)   # the child's status pipe among them: its reader waits for the child alone
            options = self.stormpy.BuilderOptions()
            options.set_build_all_labels()
            options.set_build_state_valuations()
            floated = self.stormpy.build_model(self.program, options=options)
            variables = _write_valuations(floated, self.folder)
            shape = {"sizes": [floated.nr_states, floated.nr_choices, floated.nr_transitions], "variables": variables,
                     "labels": {name: floated.labeling.get_states(name).store_as_string()
                                for name in floated.labeling.get_labels()}}
            (self.folder / "float.json").write_text(json.dumps(shape))
        finally:
            os._exit(0)

    def collect(self, model: Any) -> dict[str, str] | None:
        """In the child, after its export: the helper's variables if its build explored ``model``'s
        states in the same order, else None."""
        if not self.pid:
            return None
        os.waitpid(self.pid, 0)
        try:
            shape = json.loads((self.folder / "float.json").read_text())
        except (OSError, ValueError):
            return None
        labels = {name: model.labeling.get_states(name).store_as_string() for name in model.labeling.get_labels()}
        if shape["sizes"] != [model.nr_states, model.nr_choices, model.nr_transitions] or shape["labels"] != labels:
            return None
        variables: dict[str, str] | None = shape["variables"]
        return variables


def _read_export(folder: Path, program: Any, path: Path, arrays: dict[str, Any]) -> Mdp | None:
    """The model the child wrote (its DRN text already read into ``arrays`` from the pipe), as
    `_read_model` would read it from Storm; None where the DRN reader leaves the text to its
    careful reader or the model has a problem to report."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if len(arrays["rewards"]) != len(manifest["rewards"]):
        return None
    n = int(manifest["states"])
    rewards = {name or _UNNAMED_REWARD: values for name, values in zip(manifest["rewards"], arrays["rewards"].values())}
    if len(arrays["states"]) != n or len(rewards) != len(manifest["rewards"]) \
            or not set(arrays["labels"]) <= set(manifest["labels"]):
        return None
    names = _valuation_names(folder, manifest["variables"], _variable_order(program, path), n)
    if names is None:
        return None
    arrays["action_names"], arrays["choice_action"] = _local_unlabelled(
        arrays["action_names"], arrays["choice_action"], arrays["choice_start"])
    zeros = np.zeros(n, dtype=bool)
    arrays.update(source=str(path), states=names, rewards=rewards,
                  labels={name: arrays["labels"].get(name, zeros) for name in manifest["labels"]},
                  constants={c.name: str(c.definition) for c in program.constants if c.defined})
    try:
        return assemble_mdp(**arrays, where=Nowhere(path), number_repeated_actions=True)
    except (InputError, InputErrors):
        return None  # the careful route reports it with the program's lines


def _valuation_names(folder: Path, kinds: Mapping[str, str], order: list[str], n: int) -> tuple[str, ...] | None:
    """``x=1,y=2`` for every state, variables in declaration order (as `_state_names`)."""
    if not set(kinds) <= set(order):
        return None  # a variable the declaration scan did not find: left to the careful route
    position = {name: i for i, name in enumerate(kinds)}
    with np.load(folder / "valuations.npz") as data:
        columns = []
        for name in (v for v in order if v in kinds):
            values = data[f"arr_{position[name]}"]
            distinct, inverse = np.unique(values, return_inverse=True)
            text = [f"{name}={_text(bool(v)) if kinds[name] == 'bool' else int(v)}" for v in distinct.tolist()]
            columns.append(np.array(text, dtype=object)[inverse].tolist())
    if not columns:
        return ("",) * n
    return tuple(map(",".join, zip(*columns)))


def _local_unlabelled(action_names: tuple[str, ...], choice_action: npt.NDArray[np.int32],
                      choice_start: npt.NDArray[np.int64]) -> tuple[tuple[str, ...], npt.NDArray[np.int32]]:
    """Storm's ``__NOLABEL__`` choices named by their local index, as `_action_names` names them;
    names numbered in order of first appearance."""
    if _NO_LABEL not in action_names:
        return action_names, choice_action
    unlabelled = choice_action == action_names.index(_NO_LABEL)
    local = np.arange(len(choice_action)) - np.repeat(choice_start[:-1], np.diff(choice_start))
    key = np.where(unlabelled, len(action_names) + local, choice_action)
    distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(distinct))
    names = tuple(action_names[k] if k < len(action_names) else str(k - len(action_names))
                  for k in distinct[np.argsort(first, kind="stable")].tolist())
    return names, rank[inverse].astype(np.int32)


def _exact(value: Any) -> Fraction | tuple[Fraction, Fraction]:
    """A Storm rational (or interval) as exact `Fraction`s, through its exact decimal text."""
    if hasattr(value, "lower") and hasattr(value, "upper"):
        lo, hi = parse_rational(str(value.lower())), parse_rational(str(value.upper()))
        return lo if lo == hi else (lo, hi)
    return parse_rational(str(value))


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


def _rewards(model: Any, path: Path, choice_start: npt.NDArray[np.int64],
             values: _Values) -> dict[str, Rationals]:
    """Per reward structure, r per choice: state reward + state-action reward + Σ P · transition reward."""
    out: dict[str, Rationals] = {}
    matrix = model.transition_matrix
    n_choices = int(choice_start[-1])
    repeats = np.diff(choice_start)
    for name, structure in model.reward_models.items():
        label = name or _UNNAMED_REWARD
        if label in out:
            raise InputError(
                Location(path), f"two reward structures are named {label!r}", "Name them differently"
            )
        parts: list[Rationals] = []
        if structure.has_state_rewards:
            ids = [values.id_of(v) for v in structure.state_rewards]
            state_rewards = values.points(ids, path, f"a state reward of {label!r}")
            parts.append(state_rewards.take(np.repeat(np.arange(len(ids)), repeats)))
        if structure.has_state_action_rewards:
            ids = [values.id_of(v) for v in structure.state_action_rewards]
            parts.append(values.points(ids, path, f"a choice reward of {label!r}"))
        if structure.has_transition_rewards:
            transition_rewards = structure.transition_rewards  # keep a reference: rows do not own the matrix
            expected = [Fraction(0)] * n_choices
            for c in range(n_choices):
                row = transition_rewards.get_row(c)
                if not len(row):
                    continue
                prob = {e.column: values.point(values.id_of(e.value), path, "a probability") for e in matrix.get_row(c)}
                for e in row:
                    reward = values.point(values.id_of(e.value), path, f"a reward of {label!r}")
                    expected[c] += prob.get(e.column, Fraction(0)) * reward
            parts.append(Rationals.from_fractions(expected))
        out[label] = _sum(parts, n_choices)
    return out


def _sum(parts: list[Rationals], n: int) -> Rationals:
    if not parts:
        return Rationals.zeros(n)
    if len(parts) == 1:
        return parts[0]
    return Rationals.from_fractions([sum(column, Fraction(0)) for column in zip(*(p.fractions() for p in parts))])


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


class _Values:
    """Storm's exact numbers, read through their text once per distinct value (a model has few)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.intervals: list[tuple[Fraction, Fraction]] = []

    def id_of(self, value: Any) -> int:
        text = str(value)
        found = self.index.get(text)
        if found is None:
            exact = _exact(value)
            lo, hi = exact if isinstance(exact, tuple) else (exact, exact)
            found = self.index[text] = len(self.intervals)
            self.intervals.append((lo, hi))
        return found

    def rationals(self, ids: list[int]) -> tuple[Rationals | None, tuple[Rationals, Rationals] | None]:
        """Point probabilities, or (lo, hi) bounds when any value is an interval."""
        index = np.array(ids, dtype=np.int64)
        lo = Rationals.from_fractions([v[0] for v in self.intervals]).take(index)
        if all(a == b for a, b in self.intervals):
            return lo, None
        return None, (lo, Rationals.from_fractions([v[1] for v in self.intervals]).take(index))

    def points(self, ids: list[int], path: Path, what: str) -> Rationals:
        """Exact point values (rewards): an interval among them is an input error."""
        for i in set(ids):
            self.point(i, path, what)
        return Rationals.from_fractions([v[0] for v in self.intervals]).take(np.array(ids, dtype=np.int64))

    def point(self, i: int, path: Path, what: str) -> Fraction:
        lo, hi = self.intervals[i]
        if lo != hi:
            raise InputError(Location(path), f"{what} is an interval [{lo}, {hi}]", "Give rewards as exact numbers")
        return lo


@dataclass(frozen=True)
class _Locator:
    """Places of states, choices and transitions in the program, made only for reported problems."""

    path: Path
    names: list[str]
    choice_state: npt.NDArray[np.int64]
    row_start: npt.NDArray[np.int64]
    actions: list[str]
    line_of: Callable[[int], int | None]

    def state(self, state: int) -> Location:
        return Location(self.path, key=f"state {self.names[state]}")

    def choice(self, choice: int) -> Location:
        state = self.names[int(self.choice_state[choice])]
        return Location(self.path, line=self.line_of(choice), key=f"state {state}, action {self.actions[choice]}")

    def transition(self, transition: int) -> Location:
        return self.choice(int(np.searchsorted(self.row_start, transition, side="right")) - 1)

    def initial(self) -> Location:
        return Location(self.path, key="init")


def _action_names(model: Any, choice_start: npt.NDArray[np.int64]) -> list[str]:
    """Each choice's action label (several labels joined by commas), else its local index."""
    n_choices = int(choice_start[-1])
    tags: list[list[str]] = [[] for _ in range(n_choices)]
    if model.has_choice_labeling():
        labeling = model.choice_labeling
        for label in sorted(labeling.get_labels()):
            for c in labeling.get_choices(label):
                tags[c].append(label)
    local = np.arange(n_choices) - np.repeat(choice_start[:-1], np.diff(choice_start))
    return [",".join(t) if t else str(k) for t, k in zip(tags, local.tolist())]


def _read_model(model: Any, program: Any, path: Path) -> Mdp:
    """The built model as arrays, validated by `assemble_mdp` like every other format."""
    names = _state_names(model, _variable_order(program, path))
    matrix = model.transition_matrix
    n, n_choices = model.nr_states, model.nr_choices
    choice_start = np.array([matrix.get_row_group_start(s) for s in range(n)] + [n_choices], dtype=np.int64)
    values = _Values()
    targets: list[int] = []
    ids: list[int] = []
    counts = np.zeros(n_choices, dtype=np.int64)
    for c in range(n_choices):  # one pass over Storm's rows; each distinct value's text is parsed once
        for e in matrix.get_row(c):
            targets.append(e.column)
            ids.append(values.id_of(e.value))
        counts[c] = len(targets)
    row_start = np.concatenate([np.zeros(1, dtype=np.int64), counts])
    probability, interval = values.rationals(ids)
    actions = _action_names(model, choice_start)
    action_index: dict[str, int] = {}
    choice_action = np.array([action_index.setdefault(a, len(action_index)) for a in actions], dtype=np.int32)
    labels = {}
    for label in sorted(model.labeling.get_labels()):
        mask = np.zeros(n, dtype=bool)
        mask[list(model.labeling.get_states(label))] = True
        labels[label] = mask
    initial = np.array(sorted(int(s) for s in model.initial_states), dtype=np.int64)
    choice_state = np.repeat(np.arange(n, dtype=np.int64), np.diff(choice_start))
    return assemble_mdp(
        source=str(path),
        states=tuple(names),
        choice_start=choice_start,
        action_names=tuple(action_index),
        choice_action=choice_action,
        row_start=row_start,
        target=np.array(targets, dtype=np.int64),
        probability=probability,
        interval=interval,
        rewards=_rewards(model, path, choice_start, values),
        labels=labels,
        initial_states=initial,
        initial_probability=Rationals.from_fractions([Fraction(1, len(initial))] * len(initial)),
        where=_Locator(path, names, choice_state, row_start, actions, _choice_lines(model, program, path)),
        number_repeated_actions=True,
        constants={c.name: str(c.definition) for c in program.constants if c.defined},
    )
