"""Readers for hand-written TOML and generated JSON world models (docs/worldmodel-format.md).

TRUSTED (reading base). Numbers never pass through a binary float: TOML and JSON float literals
reach us as their decimal text (``parse_float``), integers as Python integers, strings as exact
expressions evaluated by `proofs.core.rational.evaluate_expression` with the file's
``[constants]``. Every problem is reported with its line and key path, e.g.
``m.toml:12:states.s0.actions.right.to.s1`` (lines are found by `proofs.worldmodel.keylines`, only
when there is a problem to report).

Authoring conveniences, each an exact rewriting into the plain schema:
- a reward given on the successor reached, ``rewards = { harm = { fatal = "1" } }`` in an
  action, is folded into r(s, a) = Σ P(s' | s, a) · r(s, a, s');
- ``terminal = true`` on a state gives it the one action ``stay``, a self-loop with no action
  reward (its state rewards still count, as for any action).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from proofs.core.errors import InputError, InputErrors, Location
from proofs.core.model import Mdp
from proofs.core.rational import ExpressionError, evaluate_expression
from proofs.worldmodel.build import ChoiceData, ModelData, Probability, StateData, build_mdp
from proofs.worldmodel.keylines import KeyLines, json_key_lines, toml_key_lines, with_lines
from proofs.worldmodel.validate import Problems

__all__ = ["TERMINAL_ACTION", "read_document", "read_json", "read_toml"]

_TOP_KEYS = ("rewards", "labels", "initial", "constants", "states", "plot")   # plot: pictures only (proofs.report.plot)
_STATE_KEYS = ("labels", "rewards", "actions", "terminal")
TERMINAL_ACTION = "stay"  # the action of a ``terminal = true`` state, as the examples name it
_ACTION_KEYS = ("to", "rewards")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_NON_FINITE = {"nan", "inf", "infinity"}
_NUMBER_FIX = 'Write an exact number such as "0.25", "1/4" or an expression like "1 - p"'


class _NumberText(str):
    """The decimal text of a TOML or JSON float literal, kept exact."""


class _NonFinite(str):
    """A JSON ``NaN``/``Infinity`` literal."""


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers keys given twice (plain `json` keeps the last silently)."""

    duplicates: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    repeated = []
    for key, value in pairs:
        if key in obj:
            repeated.append(key)
        obj[key] = value
    obj.duplicates = tuple(repeated)
    return obj


def read_toml(path: Path) -> Mdp:
    """Read a TOML world model.

    Raises
    ------
    InputError, InputErrors
        A syntax error (with its line), or every problem of the model (with its key path).
    """
    text = _read_text(path)
    try:
        doc = tomllib.loads(text, parse_float=lambda s: _NumberText(s.replace("_", "")))
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) or "invalid TOML"
        line = int(found.group(1)) if found else None
        raise InputError(
            Location(path, line=line),
            f"TOML syntax error: {problem}",
            "Correct the syntax (a name given twice is also a syntax error in TOML)",
        ) from None
    return read_document(doc, path, lambda: toml_key_lines(text))


def read_json(path: Path) -> Mdp:
    """Read a JSON world model (same schema as TOML); duplicate keys are reported, not overwritten."""
    text = _read_text(path)
    try:
        doc = json.loads(
            text, parse_float=_NumberText, parse_constant=_NonFinite, object_pairs_hook=_json_object
        )
    except json.JSONDecodeError as exc:
        raise InputError(
            Location(path, line=exc.lineno),
            f"JSON syntax error: {exc.msg} (column {exc.colno})",
            "Correct the JSON syntax",
        ) from None
    if not isinstance(doc, Mapping):
        raise InputError(
            Location(path), "the JSON document is not an object", "Write the model as a JSON object"
        )
    return read_document(doc, path, lambda: json_key_lines(text))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            Location(path), f"the file is not UTF-8 text ({exc.reason})", "Save it as UTF-8"
        ) from None


def key_path(*parts: str) -> str:
    """A TOML-style key path, quoting parts that are not bare keys: ``states."a b".actions``."""
    return ".".join(p if _BARE_KEY.match(p) else json.dumps(p) for p in parts)


class _Reader:
    """Walks one parsed document, collecting every problem."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems = Problems(str(path))
        self.constants: dict[str, Fraction] = {}
        self.parts: dict[str, tuple[str, ...]] = {}  # key path text -> its parts, to find its line later
        self.declared_rewards: tuple[str, ...] | None = None
        self.declared_labels: tuple[str, ...] | None = None

    def at(self, *parts: str) -> Location:
        key = key_path(*parts)
        self.parts.setdefault(key, parts)
        return Location(self.path, key=key)

    def report(self, kind: str, parts: tuple[str, ...], problem: str, fix: str) -> None:
        self.problems.add(kind, self.at(*parts), problem, fix)

    def table(
        self, value: Any, parts: tuple[str, ...], allowed: tuple[str, ...] | None = None
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.report(
                "structure", parts, f"expected a table, got {_kind(value)}", "See docs/worldmodel-format.md"
            )
            return {}
        for key in getattr(value, "duplicates", ()):
            self.report("duplicate name", (*parts, key), f"{key!r} is given twice", "Give every name once")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    self.report(
                        "structure",
                        (*parts, key),
                        f"unknown key {key!r}",
                        f"Use one of {', '.join(allowed)} (see docs/worldmodel-format.md)",
                    )
        return value

    def names(self, value: Any, parts: tuple[str, ...]) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(
            isinstance(v, str) and not isinstance(v, _NumberText) for v in value
        ):
            self.report(
                "structure",
                parts,
                f"expected a list of names, got {_kind(value)}",
                'Write e.g. ["goal", "fatal"]',
            )
            return ()
        seen = set()
        for v in value:
            if v in seen:
                self.report("duplicate name", parts, f"{v!r} is listed twice", "List every name once")
            seen.add(v)
        return tuple(dict.fromkeys(value))

    def number(self, value: Any, parts: tuple[str, ...]) -> Fraction | None:
        """An exact number, or None after reporting why it is not one."""
        problem = None
        if isinstance(value, _NonFinite) or (
            isinstance(value, str) and value.strip().lower().lstrip("+-") in _NON_FINITE
        ):
            problem = f"{value} is not a finite number"
        elif isinstance(value, bool) or not isinstance(value, (int, str)):
            problem = f"expected a number, got {_kind(value)}"
        else:
            try:
                return evaluate_expression(value, self.constants)
            except ExpressionError as exc:
                problem = str(exc)
        self.report("number", parts, problem, _NUMBER_FIX)
        return None

    def read_constants(self, value: Any) -> None:
        for name, expr in self.table(value, ("constants",)).items():
            if not name.isidentifier():
                self.report(
                    "structure",
                    ("constants", name),
                    f"{name!r} is not a valid constant name",
                    "Use a name made of letters, digits and _, not starting with a digit",
                )
                continue
            number = self.number(expr, ("constants", name))
            if number is not None:
                self.constants[name] = number

    def declared(self, name: str, kind: str, parts: tuple[str, ...]) -> bool:
        """Whether a reward or label name may be used; an undeclared one is reported at `parts`."""
        names = self.declared_rewards if kind == "reward" else self.declared_labels
        if names is None or name in names:
            return True
        listed = ", ".join(repr(n) for n in names) or "none"
        self.report(
            f"unknown {kind}",
            parts,
            f"{kind} {name!r} is not declared (declared: {listed})",
            f"Add {name!r} to the top-level '{kind}s' list or correct the name",
        )
        return False

    def rewards(
        self, value: Any, parts: tuple[str, ...], successors: Mapping[str, Probability | None] | None = None
    ) -> dict[str, Fraction]:
        """Reward numbers by name; with `successors` (an action's), a table keyed by successor is
        a transition reward, folded into its expectation."""
        out = {}
        for name, raw in self.table(value, parts).items():
            if not self.declared(name, "reward", (*parts, name)):
                continue
            if successors is not None and isinstance(raw, Mapping):
                number = self.transition_reward(raw, (*parts, name), successors)
            else:
                number = self.number(raw, (*parts, name))
            if number is not None:
                out[name] = number
        return out

    def transition_reward(
        self, value: Mapping[str, Any], parts: tuple[str, ...], successors: Mapping[str, Probability | None]
    ) -> Fraction | None:
        """r(s, a) = Σ P(s' | s, a) · r(s, a, s') over the successors given (the others earn 0)."""
        total, ok = Fraction(0), True
        for target, raw in self.table(value, parts).items():
            number = self.number(raw, (*parts, target))
            if target not in successors:
                listed = ", ".join(repr(t) for t in successors) or "none"
                self.report(
                    "transition reward",
                    (*parts, target),
                    f"{target!r} is not a successor of this action (its successors: {listed})",
                    "Key a transition reward by a state of the action's 'to' distribution",
                )
                ok = False
                continue
            p = successors[target]
            if isinstance(p, tuple):
                self.report(
                    "transition reward",
                    (*parts, target),
                    "a reward on the successor reached needs a point probability, not an interval",
                    "Give the action's expected reward as one number instead (nature picks the distribution)",
                )
                ok = False
            elif p is None or number is None:
                ok = False  # already reported
            else:
                total += p * number
        return total if ok else None

    def probability(self, value: Any, parts: tuple[str, ...]) -> Probability | None:
        if isinstance(value, list):
            if len(value) != 2:
                self.report(
                    "number",
                    parts,
                    f"an interval needs exactly two bounds, got {len(value)}",
                    'Write an interval as ["0.85", "0.95"]',
                )
                return None
            lo, hi = self.number(value[0], (*parts, "0")), self.number(value[1], (*parts, "1"))
            return None if lo is None or hi is None else (lo, hi)
        return self.number(value, parts)


def read_document(
    doc: Mapping[str, Any], path: Path, lines: Callable[[], KeyLines] | None = None
) -> Mdp:
    """Turn a parsed TOML/JSON document into a validated `Mdp` (every problem at once).

    `lines` gives the line of each key path of the document's text; it is called only when
    there are problems, to add their lines to the messages.
    """
    r = _Reader(path)
    try:
        return _read_model(r, doc)
    except (InputError, InputErrors) as exc:
        if lines is None:
            raise
        raise with_lines(exc, r.parts, lines()) from None


def _read_model(r: _Reader, doc: Mapping[str, Any]) -> Mdp:
    r.table(doc, (), _TOP_KEYS)
    r.read_constants(doc.get("constants", {}))
    if "rewards" in doc:
        r.declared_rewards = r.names(doc["rewards"], ("rewards",))
    if "labels" in doc:
        r.declared_labels = r.names(doc["labels"], ("labels",))
    states_doc = r.table(doc.get("states", {}), ("states",))
    if not states_doc:
        r.report("structure", ("states",), "the model has no states", "Add states as [states.NAME] tables")
    index = {name: i for i, name in enumerate(states_doc)}
    states = tuple(_state(r, name, value, index) for name, value in states_doc.items())
    data = ModelData(
        source=str(r.path),
        states=states,
        initial=_initial(r, doc, index),
        initial_where=r.at("initial"),
        reward_names=r.declared_rewards or (),
        label_names=r.declared_labels or (),
        declared_rewards=r.declared_rewards is not None,
        declared_labels=r.declared_labels is not None,
    )
    return build_mdp(data, r.problems)


def _state(r: _Reader, name: str, value: Any, index: Mapping[str, int]) -> StateData:
    parts = ("states", name)
    body = r.table(value, parts, _STATE_KEYS)
    labels = _labels(r, body, parts)
    actions = r.table(body.get("actions", {}), (*parts, "actions"))
    choices = tuple(_choice(r, parts, action, spec, index) for action, spec in actions.items())
    if _terminal(r, body, parts):
        where = r.at(*parts, "terminal")
        choices = (ChoiceData(TERMINAL_ACTION, ((index[name], Fraction(1)),), where, {}, (where,)),)
    return StateData(
        name, choices, r.at(*parts), r.rewards(body.get("rewards", {}), (*parts, "rewards")), labels
    )


def _labels(r: _Reader, body: Mapping[str, Any], parts: tuple[str, ...]) -> tuple[str, ...]:
    if "labels" not in body:
        return ()
    names = r.names(body["labels"], (*parts, "labels"))
    return tuple(n for n in names if r.declared(n, "label", (*parts, "labels")))


def _terminal(r: _Reader, body: Mapping[str, Any], parts: tuple[str, ...]) -> bool:
    """Whether the state is written ``terminal = true`` (and has no hand-written actions)."""
    value = body.get("terminal", False)
    if not isinstance(value, bool):
        r.report(
            "structure",
            (*parts, "terminal"),
            f"expected true or false, got {_kind(value)}",
            "Write terminal = true for an absorbing state, or leave it out",
        )
        return False
    if value and "actions" in body:
        r.report(
            "structure",
            (*parts, "terminal"),
            "a terminal state also has actions",
            f"Remove terminal = true, or the actions (a terminal state gets the one action "
            f"{TERMINAL_ACTION!r}, a self-loop)",
        )
        return False
    return value


def _choice(
    r: _Reader, state_parts: tuple[str, ...], action: str, value: Any, index: Mapping[str, int]
) -> ChoiceData:
    parts = (*state_parts, "actions", action)
    body = r.table(value, parts, _ACTION_KEYS)
    if "to" not in body:
        r.report(
            "structure",
            parts,
            f"action {action!r} has no 'to' distribution",
            'Add to = { STATE = "1" } with the successor states and their probabilities',
        )
    successors, where = [], []
    given: dict[str, Probability | None] = {}
    for target, raw in r.table(body.get("to", {}), (*parts, "to")).items():
        p = given[target] = r.probability(raw, (*parts, "to", target))
        if target not in index:
            r.report(
                "unknown successor",
                (*parts, "to", target),
                f"successor state {target!r} is not defined",
                f"Define [states.{key_path(target)}] or correct the name",
            )
        if p is not None:  # an unknown successor keeps its place (target -1) so sums stay honest
            successors.append((index.get(target, -1), p))
            where.append(r.at(*parts, "to", target))
    return ChoiceData(
        action,
        tuple(successors),
        r.at(*parts, "to"),
        r.rewards(body.get("rewards", {}), (*parts, "rewards"), given),
        tuple(where),
    )


def _initial(
    r: _Reader, doc: Mapping[str, Any], index: Mapping[str, int]
) -> tuple[tuple[int, Fraction], ...] | None:
    if "initial" not in doc:
        return None
    value = doc["initial"]
    if isinstance(value, str) and not isinstance(value, _NumberText):
        value = {value: 1}
    out = []
    for state, raw in r.table(value, ("initial",)).items():
        p = r.number(raw, ("initial", state))
        if state not in index:
            r.report(
                "initial distribution",
                ("initial", state),
                f"initial state {state!r} is not defined",
                "Name a state defined under [states]",
            )
        if p is not None:  # an unknown state keeps its place (-1) so the sum stays honest
            out.append((index.get(state, -1), p))
    return tuple(out)


def _kind(value: Any) -> str:
    if isinstance(value, _NumberText):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return {bool: "a boolean", list: "a list", int: "an integer"}.get(
        type(value), "a table" if isinstance(value, Mapping) else type(value).__name__
    )
