"""Reader for Storm's DRN format (``.drn``), including interval probabilities.

TRUSTED (reading base). The header (``@type``, ``@parameters``, ``@placeholders``,
``@reward_models``, ``@nr_states``, ``@nr_choices``) is followed by ``@model`` and the states::

    state 0 [1, 0] init goal        <- state rewards, one per declared reward model, then labels
        action left [2, 0]          <- choice rewards
            1 : 0.4                 <- target : probability (or an interval [0.4, 0.9])

States are named by their index, actions by their DRN name (``__NOLABEL__`` by the local choice
index), reward models by their declared names (``rew0``... past the declared ones, as Storm does).
r(s, a) is the state reward plus the choice reward. Every number is read exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from proofs.core.errors import InputError, Location, quote
from proofs.core.model import Mdp
from proofs.core.rational import ExpressionError, evaluate_expression
from proofs.worldmodel.build import ChoiceData, ModelData, Probability, StateData, build_mdp
from proofs.worldmodel.fastread import parse_index
from proofs.worldmodel.validate import Problems

__all__ = ["read_drn", "read_drn_careful"]

_NO_LABEL = "__NOLABEL__"
_LABEL = re.compile(r'"([^"]+)"|(\S+)')
_TYPES = {"MDP", "DTMC"}
_NUMBER_FIX = "Write an exact number such as 0.25 or 1/4"


@dataclass
class _Header:
    model_type: str | None = None
    parameters: list[str] = field(default_factory=list)
    placeholders: dict[str, Fraction] = field(default_factory=dict)
    reward_models: list[str] = field(default_factory=list)
    nr_states: int | None = None
    nr_choices: int | None = None
    lines: dict[str, int] = field(default_factory=dict)  # header key -> line of its value


@dataclass
class _State:
    name: str
    line: int
    labels: tuple[str, ...]
    rewards: list[Fraction]
    choices: list[tuple[str, int, list[Fraction], list[tuple[int, Probability, int]]]] = field(
        default_factory=list
    )


class _Reader:
    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path, self.lines = path, lines
        self.problems = Problems(str(path))
        self.header = _Header()
        self.states: list[_State] = []

    def at(self, line: int) -> Location:
        return Location(self.path, line=line)

    def fail(self, line: int, problem: str, fix: str) -> InputError:
        return InputError(self.at(line), problem, fix)

    def value(self, text: str, line: int) -> Fraction | None:
        text = text.strip()
        try:
            if text.startswith("$"):
                if text[1:] not in self.header.placeholders:
                    raise ExpressionError(f"placeholder {quote(text)} is not defined")
                return self.header.placeholders[text[1:]]
            return evaluate_expression(text)
        except ExpressionError as exc:
            self.problems.add("number", self.at(line), str(exc), _NUMBER_FIX)
            return None

    def probability(self, text: str, line: int) -> Probability | None:
        text = text.strip()
        if text.startswith("["):
            parts = text.strip("[]").split(",")
            if not text.endswith("]") or len(parts) != 2:
                self.problems.add(
                    "number", self.at(line), f"{quote(text)} is not an interval", "Write it as [0.4, 0.9]"
                )
                return None
            lo, hi = self.value(parts[0], line), self.value(parts[1], line)
            return None if lo is None or hi is None else (lo, hi)
        return self.value(text, line)

    def rewards(self, text: str, line: int) -> tuple[list[Fraction], str]:
        """Bracketed rewards at the start of `text`, and the rest of it."""
        text = text.strip()
        if not text.startswith("["):
            return [], text
        end = text.find("]")
        if end < 0:
            raise self.fail(line, "a reward list has no closing ']'", "Write rewards as [1, 0.5]")
        values = [self.value(v, line) for v in text[1:end].split(",")]
        return [v if v is not None else Fraction(0) for v in values], text[end + 1 :]


def read_drn(path: Path) -> Mdp:
    """Read a DRN file into a validated `Mdp` (interval probabilities make it credal).

    A well-formed file is read by the vectorised fast path (`proofs.worldmodel.drn_fast`), which
    gives the same model; anything unusual (including every error) is read line by line by
    `read_drn_careful`, whose messages name the line.

    Raises
    ------
    InputError, InputErrors
        Unsupported model types (only MDP and DTMC), parametric models, malformed lines, and every
        validation problem, each with its line.
    """
    from proofs.worldmodel.drn_fast import read_drn_fast  # it builds on this module's reader

    mdp = read_drn_fast(path)
    return mdp if mdp is not None else read_drn_careful(path)


def read_drn_careful(path: Path) -> Mdp:
    """`read_drn` line by line in Python: slower, and the reader of every unusual or wrong file."""
    r = _Reader(path, path.read_text(encoding="utf-8").splitlines())
    body = _read_header(r)
    _read_body(r, body)
    _check_counts(r)
    return build_mdp(_model_data(r), r.problems)


def _next_line(r: _Reader, i: int, what: str) -> str:
    if i + 1 >= len(r.lines):
        raise r.fail(i + 1, f"{what} is not followed by its value", "Give the value on the next line")
    return r.lines[i + 1].strip()


def _read_header(r: _Reader) -> int:
    """Read up to ``@model``; returns the index of the first body line."""
    h, i = r.header, 0
    while i < len(r.lines):
        text = r.lines[i].strip()
        line = i + 1
        if not text or text.startswith("//"):
            i += 1
            continue
        if text.startswith("@type:"):
            h.model_type = text[6:].strip()
            if h.model_type not in _TYPES:
                raise r.fail(line, f"model type {quote(h.model_type)} is not supported", "Give an MDP (or a DTMC)")
        elif text == "@model":
            if h.model_type is None:
                raise r.fail(line, "@type is missing before @model", "Add '@type: MDP' to the header")
            return i + 1
        elif text == "@placeholders":
            while i + 1 < len(r.lines) and not r.lines[i + 1].startswith("@"):
                i += 1
                name, _, value = r.lines[i].partition(":")
                number = r.value(value, i + 1)
                if number is not None:
                    h.placeholders[name.strip().lstrip("$")] = number
            i += 1
            continue
        elif text in {"@parameters", "@reward_models", "@nr_states", "@nr_choices"}:
            _header_value(r, text, _next_line(r, i, text), line)
            i += 1
        elif not text.startswith("@value_type:"):
            raise r.fail(
                line,
                f"unexpected header line {quote(text)}",
                "See Storm's DRN format; the header ends with @model",
            )
        i += 1
    raise r.fail(len(r.lines), "the file has no @model section", "Add @model followed by the states")


def _header_value(r: _Reader, key: str, value: str, line: int) -> None:
    h = r.header
    if key == "@parameters":
        h.parameters = value.split()
        if h.parameters:
            raise r.fail(
                line + 1,
                f"parametric models are not supported (parameters {quote(' '.join(h.parameters))})",
                "Instantiate the parameters with exact values",
            )
    elif key == "@reward_models":
        h.reward_models = value.split()
    elif parse_index(value) is None:
        raise r.fail(
            line + 1, f"{key} must be followed by a number of at most 18 digits, got {quote(value)}",
            "Write the count on the next line"
        )
    elif key == "@nr_states":
        h.nr_states = parse_index(value)
    else:
        h.nr_choices = parse_index(value)
    h.lines[key] = line + 1


def _read_body(r: _Reader, start: int) -> None:
    for i in range(start, len(r.lines)):
        text = r.lines[i].strip()
        line = i + 1
        if not text or text.startswith("//"):
            continue
        if text.startswith("state "):
            _state_line(r, text[6:], line)
        elif text.startswith("action ") or text == "action":
            if not r.states:
                raise r.fail(line, "an action before the first state", "Start with a 'state 0' line")
            name, _, rest = text[7:].strip().partition(" ")
            rewards, _ = r.rewards(rest, line)
            r.states[-1].choices.append((name, line, rewards, []))
        else:
            _transition_line(r, text, line)


def _state_line(r: _Reader, text: str, line: int) -> None:
    ident, _, rest = text.strip().partition(" ")
    if parse_index(ident) != len(r.states):
        raise r.fail(
            line,
            f"expected state {len(r.states)}, found {quote(ident)}",
            "Number the states 0, 1, 2, ... in order, without gaps",
        )
    rewards, rest = r.rewards(rest, line)
    labels = tuple(a or b for a, b in _LABEL.findall(rest))
    r.states.append(_State(ident, line, labels, rewards))


def _transition_line(r: _Reader, text: str, line: int) -> None:
    target, colon, value = text.partition(":")
    index = parse_index(target)
    if not colon or index is None:
        raise r.fail(
            line, f"expected 'target : probability', found {quote(text)}",
            "Write a transition as '1 : 0.5' (a state index of at most 18 digits)"
        )
    if not r.states or not r.states[-1].choices:
        raise r.fail(line, "a transition before the first action of a state", "Add an 'action' line first")
    p = r.probability(value, line)
    if p is not None:
        r.states[-1].choices[-1][3].append((index, p, line))


def _check_counts(r: _Reader) -> None:
    h = r.header
    n_choices = sum(len(s.choices) for s in r.states)
    for key, declared, found in (
        ("@nr_states", h.nr_states, len(r.states)),
        ("@nr_choices", h.nr_choices, n_choices),
    ):
        if declared is not None and declared != found:
            r.problems.add(
                "header",
                Location(r.path, line=h.lines.get(key), key=key),
                f"{key} declares {declared}, the file has {found}",
                "Correct the header",
            )
    if h.nr_states is None:
        r.problems.add(
            "header",
            Location(r.path, key="@nr_states"),
            "@nr_states is missing",
            "Declare the number of states",
        )


def _reward_names(r: _Reader) -> list[str]:
    width = max([len(s.rewards) for s in r.states] + [len(c[2]) for s in r.states for c in s.choices] + [0])
    declared = r.header.reward_models
    return declared + [f"rew{i}" for i in range(len(declared), width)]


def _model_data(r: _Reader) -> ModelData:
    names = _reward_names(r)
    states = []
    for s in r.states:
        choices = []
        for k, (action, line, rewards, successors) in enumerate(s.choices):
            choices.append(
                ChoiceData(
                    str(k) if action == _NO_LABEL or not action else action,
                    tuple((t, p) for t, p, _ in successors),
                    r.at(line),
                    dict(zip(names, rewards)),
                    tuple(r.at(n) for _, _, n in successors),
                )
            )
        states.append(StateData(s.name, tuple(choices), r.at(s.line), dict(zip(names, s.rewards)), s.labels))
    return ModelData(str(r.path), tuple(states), None, Location(r.path, key="init label"), tuple(names),
                     number_repeated_actions=True)
