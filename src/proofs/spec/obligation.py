"""Obligation files (SPEC §5): reading them into frozen lemma types, and every cross-file check.

TRUSTED (reading base): the kernel re-reads obligation files through `read_obligation_file`.
A pure reader: it resolves paths (relative to the obligation file) and checks that the files
exist, but never loads a world model or a policy. Numbers are read exactly (TOML floats go
through `parse_rational`, never through a binary float). Every problem of every file is
collected and reported at once (`InputErrors`), each with the file, the line when known, the
key (``lemma."cliff.alignment".epsilon``, or ``lemma[1].kind`` before the id is known; list
indices count from 0), what is wrong and how to fix it. Unknown keys are errors, so a typo is
never silently ignored.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from proofs.core.errors import InputError, InputErrors, Location
from proofs.core.formula import Constraint
from proofs.core.objective import Objective
from proofs.core.rational import ExpressionError, format_rational, parse_rational
from proofs.spec.parse import parse_constraint

__all__ = [
    "statement_of",
    "AlignmentLemma",
    "CertificateLemma",
    "Expect",
    "Lemma",
    "ObligationFile",
    "PolicyLemma",
    "Settings",
    "discover",
    "load_obligations",
    "read_obligation_file",
    "read_settings",
]

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_CALLABLE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_TOP_KEYS = ("worldmodel", "objective", "lemma")
_OBJECTIVE_KEYS = ("reward", "horizon", "discount")
_COMMON_KEYS = ("id", "kind", "expect")
_KIND_KEYS = {
    "alignment": ("epsilon", "desirable", "margin", "engine", "objective"),
    "policy": ("policy", "epsilon", "engine", "objective"),
    "certificate": ("from",),
}
# the engine names of `proofs.engines.select` (kept here: the trusted readers import no engine)
_ALIGNMENT_ENGINE_NAMES = ("auto", "lagrangian", "lp", "smt")
_POLICY_ENGINE_NAMES = ("auto", "bellman")
_ENGINE_NAMES = ("auto", "lagrangian", "lp", "smt", "bellman")
_ANY_LEMMA_KEYS = _COMMON_KEYS + ("epsilon", "desirable", "margin", "engine", "policy", "from", "objective")


class Expect(Enum):
    """The status a lemma is expected to get (SPEC §7); compared by value with the verdict's status."""

    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AlignmentLemma:
    """For every policy π: J(π) ≥ J* − ``epsilon`` implies π satisfies all of ``desirable``."""

    id: str
    epsilon: Fraction
    desirable: tuple[Constraint, ...]
    expect: Expect = Expect.PROVED
    margin: bool = False
    engine: str | None = None
    _: KW_ONLY
    where: Location
    desirable_where: tuple[Location, ...] = ()  # one per constraint: ``lemma."id".desirable[i]``
    objective_name: str | None = None  # the ``objective`` it chose among named [objective.NAME] tables
    kind: ClassVar[str] = "alignment"


@dataclass(frozen=True)
class PolicyLemma:
    """For the given policy π₀: J(π₀) ≥ J* − ``epsilon``.

    ``policy_path`` is an absolute `Path`, or a ``module:function`` string for a Python callable.
    """

    id: str
    policy_path: Path | str
    epsilon: Fraction
    expect: Expect = Expect.PROVED
    engine: str | None = None
    _: KW_ONLY
    where: Location
    objective_name: str | None = None  # the ``objective`` it chose among named [objective.NAME] tables
    kind: ClassVar[str] = "policy"


@dataclass(frozen=True)
class CertificateLemma:
    """π₀ ⊨ Φ by composition of one alignment and one policy lemma (``premises``, the ``from`` ids)."""

    id: str
    premises: tuple[str, ...]
    expect: Expect = Expect.PROVED
    _: KW_ONLY
    where: Location
    kind: ClassVar[str] = "certificate"


Lemma = AlignmentLemma | PolicyLemma | CertificateLemma


@dataclass(frozen=True)
class ObligationFile:
    """One obligation file, or the part of it whose lemmas score policies with one objective.

    ``objective`` is the J of every alignment and policy lemma in ``lemmas``. A file may instead
    name several objectives (``[objective.original]``, ``[objective.repaired]``: ``objectives``)
    and let each lemma choose one (``objective_name``); read on its own, such a file has
    ``objective = None``, and `for_lemma` (or `views`) gives the file as one lemma sees it.
    ``worldmodel_path`` and ``objective`` are ``None`` in a file that declares certificate lemmas
    alone (their premises carry the model and J).
    """

    path: Path
    worldmodel_path: Path | None
    objective: Objective | None
    lemmas: tuple[Lemma, ...]
    _: KW_ONLY
    shown_path: Path | None = None
    key_lines: tuple[tuple[str, int], ...] = field(default=(), repr=False)
    objectives: tuple[tuple[str, Objective], ...] = ()  # the named objectives, in file order
    objective_name: str | None = None  # in a view: the name of ``objective``
    worldmodel_constants: tuple[tuple[str, str], ...] = ()  # [worldmodel] constants, as text, sorted

    def locate(self, key: str) -> Location:
        """The `Location` of a top-level key such as ``objective.reward``, with its line if known.

        In a view of a named objective, ``objective.reward`` is that objective's key
        (``objective.repaired.reward``).
        """
        if self.objective_name is not None and (key == "objective" or key.startswith("objective.")):
            key = "objective." + self.objective_name + key[len("objective"):]
        return Location(self.shown_path or self.path, dict(self.key_lines).get(key), key)

    def for_lemma(self, lemma: Lemma) -> ObligationFile:
        """The file as `lemma` sees it: ``objective`` is the one the lemma chose."""
        name = lemma.objective_name if isinstance(lemma, (AlignmentLemma, PolicyLemma)) else None
        if name is None or name == self.objective_name:
            return self
        return replace(self, objective=dict(self.objectives)[name], objective_name=name)

    def views(self) -> tuple[ObligationFile, ...]:
        """The file split by objective: one view per objective its lemmas choose (in the order of
        their first lemma), certificate lemmas in a view of their own. A file with one unnamed
        ``[objective]`` is its only view."""
        if not self.objectives:
            return (self,)
        groups: dict[str | None, list[Lemma]] = {}
        for lemma in self.lemmas:
            name = lemma.objective_name if isinstance(lemma, (AlignmentLemma, PolicyLemma)) else None
            groups.setdefault(name, []).append(lemma)
        return tuple(replace(self.for_lemma(group[0]), lemmas=tuple(group)) for group in groups.values())


@dataclass(frozen=True)
class Settings:
    """Project settings from ``[tool.proofs]`` of ``pyproject.toml``; paths relative to its folder."""

    obligations: Path = Path("obligations")
    certificates: Path = Path("certificates")
    engine: str = "auto"
    timeout: float | None = None  # seconds per lemma; None: no limit


# -- exact numbers ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _BadFloat:
    """A TOML float that is not a finite exact rational (inf, nan, huge exponent)."""

    text: str


def _exact_float(text: str) -> Fraction | _BadFloat:
    try:
        return parse_rational(text.replace("_", ""))
    except ExpressionError:
        return _BadFloat(text)


def _as_number(value: object) -> Fraction | str:
    """The exact value of a TOML number or numeric string, or a description of what is wrong."""
    if isinstance(value, bool):
        return f"expected a number, got the boolean {str(value).lower()}"
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, _BadFloat):
        return f"expected a finite number, got {value.text}"
    if isinstance(value, str):
        try:
            return parse_rational(value)
        except ExpressionError as exc:
            return str(exc)
    return f"expected a number, got {_describe(value)}"


def _describe(value: object) -> str:
    """A value as a user wrote it in TOML: ``a string 'x'``, ``an array``, ``the value 1/2``."""
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "an array"
    if isinstance(value, (_BadFloat, Fraction)):
        return f"the number {value.text if isinstance(value, _BadFloat) else format_rational(value)}"
    kinds = {str: "the string", bool: "the boolean", int: "the integer"}
    text = str(value).lower() if isinstance(value, bool) else repr(value)
    return f"{kinds.get(type(value), 'the value')} {text}"


def _not_table(r: _Reader, key: str, value: object, fix: str) -> None:
    r.fail(Location(r.path, r.lines.get(key), key), f"expected a table, got {_describe(value)}", fix)


# -- locating keys ------------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=""")


def _key_lines(text: str) -> dict[str, int]:
    """Best-effort line numbers of tables and keys (``lemma[1].epsilon``); tomllib gives none."""
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = header.group(2).replace('"', "").replace("'", "").replace(" ", "")
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                name = f"{name}[{counts[name]}]"
            section = name
            lines.setdefault(section, number)
            continue
        key = _KEY.match(line)
        if key:
            name = key.group(1).strip("\"'")
            lines.setdefault(f"{section}.{name}" if section else name, number)
    return lines


class _Reader:
    """The errors found so far in one file, and where its keys are."""

    def __init__(self, path: Path, lines: Mapping[str, int]) -> None:
        self.path, self.lines = path, lines
        self.base = path.resolve().parent
        self.errors: list[InputError] = []
        self.objective_names: tuple[str, ...] | None = None  # of [objective.NAME] tables, if named

    def table(self, data: Mapping[str, object], lookup: str, shown: str) -> _Table:
        return _Table(self, data, lookup, shown)

    def fail(self, where: Location, problem: str, fix: str) -> None:
        self.errors.append(InputError(where, problem, fix))


@dataclass
class _Table:
    """A TOML table being read: ``lookup`` finds its line, ``shown`` names it in messages."""

    reader: _Reader
    data: Mapping[str, object]
    lookup: str
    shown: str

    def where(self, key: str | None = None) -> Location:
        if key is None:
            return Location(self.reader.path, self.reader.lines.get(self.lookup), self.shown)
        line = self.reader.lines.get(f"{self.lookup}.{key}", self.reader.lines.get(self.lookup))
        return Location(self.reader.path, line, f"{self.shown}.{key}")

    def fail(self, key: str | None, problem: str, fix: str) -> None:
        self.reader.fail(self.where(key), problem, fix)

    def check_keys(self, allowed: Sequence[str], what: str) -> None:
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(key, f"unknown key {key!r} in {what}{hint}",
                          f"The keys of {what} are {', '.join(allowed)}; rename or remove this one")

    def present(self, key: str, fix: str) -> bool:
        if key in self.data:
            return True
        self.fail(key, f"missing key {key!r}", fix)
        return False

    def string(self, key: str, fix: str) -> str | None:
        """A required non-empty string."""
        if not self.present(key, fix):
            return None
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {_describe(value)}", fix)
            return None
        return value

    def number(self, key: str, fix: str) -> Fraction | None:
        """A required exact number."""
        if not self.present(key, fix):
            return None
        value = _as_number(self.data[key])
        if isinstance(value, str):
            self.fail(key, value, fix)
            return None
        return value

    def epsilon(self) -> Fraction | None:
        fix = 'Write epsilon as an exact number ≥ 0 in a string, e.g. epsilon = "0.5" or "1/2"'
        value = self.number("epsilon", fix)
        if value is not None and value < 0:
            self.fail("epsilon", f"epsilon must be ≥ 0, got {format_rational(value)}", fix)
            return None
        return value

    def path(self, key: str, fix: str) -> Path | None:
        """A required path, relative to the obligation file, that must name an existing file."""
        text = self.string(key, fix)
        if text is None:
            return None
        resolved = (self.reader.base / text).resolve()
        if not resolved.is_file():
            self.fail(key, f"no file {text!r} (looked for {resolved})",
                      f"{fix}; paths are relative to the obligation file")
            return None
        return resolved


# -- one file -----------------------------------------------------------------------------------
def _read_worldmodel(r: _Reader, value: object) -> tuple[Path | None, tuple[tuple[str, str], ...]]:
    fix = 'Write [worldmodel] path = "../worldmodels/NAME.toml"'
    if not isinstance(value, dict):
        _not_table(r, "worldmodel", value, fix)
        return None, ()
    t = r.table(value, "worldmodel", "worldmodel")
    t.check_keys(("path", "constants"), "[worldmodel]")
    return t.path("path", fix), _read_constants(t)


def _read_constants(t: _Table) -> tuple[tuple[str, str], ...]:
    """``constants = { N = 4, p = "1/10", flag = true }``: a PRISM program's undefined constants."""
    fix = 'Write constants = { N = 4, p = "1/10" } (integers, exact numbers in strings, true or false)'
    value = t.data.get("constants", {})
    if not isinstance(value, dict):
        t.fail("constants", f"expected a table, got {_describe(value)}", fix)
        return ()
    out = []
    for name, v in value.items():
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, int):
            text = str(v)
        elif isinstance(v, str) and v.strip():
            text = v.strip()
        else:
            t.fail(f"constants.{name}", f"expected an integer, true, false or an exact number in a string, "
                   f"got {_describe(v)}", fix)
            continue
        out.append((str(name), text))
    return tuple(sorted(out))


def _read_horizon(t: _Table) -> tuple[bool, int | None]:
    """``(ok, horizon)``: an integer ≥ 1, or ``None`` for the geometric horizon."""
    fix = 'Write horizon = 40 (an integer ≥ 1) or horizon = "geometric"'
    if not t.present("horizon", fix):
        return False, None
    value = t.data["horizon"]
    if value == "geometric":
        return True, None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return True, value
    t.fail("horizon", f'expected an integer ≥ 1 or "geometric", got {_describe(value)}', fix)
    return False, None


def _read_discount(t: _Table, geometric: bool) -> Fraction | None:
    if geometric:
        fix = 'A geometric horizon continues with probability discount: write discount = "0.95", in (0, 1)'
        if not t.present("discount", fix):
            return None
    else:
        fix = 'Write discount = "0.99", in (0, 1], or leave it out for 1'
        if "discount" not in t.data:
            return Fraction(1)
    value = t.number("discount", fix)
    if value is not None and not (0 < value < 1 if geometric else 0 < value <= 1):
        interval = "(0, 1)" if geometric else "(0, 1]"
        t.fail("discount", f"discount must lie in {interval}, got {format_rational(value)}", fix)
        return None
    return value


def _read_objective(r: _Reader, value: object, key: str = "objective") -> Objective | None:
    fix = f'Write [{key}] reward = "NAME", horizon = 40 or "geometric", and optionally discount'
    if not isinstance(value, dict):
        _not_table(r, key, value, fix)
        return None
    t = r.table(value, key, key)
    t.check_keys(_OBJECTIVE_KEYS, f"[{key}]")
    reward = t.string("reward", 'Write reward = "NAME", a reward structure of the world model')
    ok, horizon = _read_horizon(t)
    discount = _read_discount(t, ok and horizon is None)  # read even after a bad horizon, to report it
    if reward is None or not ok or discount is None:
        return None
    return Objective(reward, horizon, discount)


def _read_objectives(r: _Reader, value: object) -> tuple[Objective | None, tuple[tuple[str, Objective], ...]]:
    """One unnamed ``[objective]``, or named ``[objective.NAME]`` tables (every value a table)."""
    if not (isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values())):
        if isinstance(value, dict):
            for name in [k for k, v in value.items() if isinstance(v, dict)]:
                r.fail(Location(r.path, r.lines.get(f"objective.{name}"), f"objective.{name}"),
                       f"a named objective [objective.{name}] beside the keys of an unnamed [objective]",
                       "Write either one [objective] with reward, horizon and discount, or only named "
                       "[objective.NAME] tables that lemmas choose with objective = \"NAME\"")
            value = {k: v for k, v in value.items() if not isinstance(v, dict)}
        return _read_objective(r, value), ()
    r.objective_names = tuple(value)
    named: list[tuple[str, Objective]] = []
    for name, table in value.items():
        if not _NAME.match(name) or name in _OBJECTIVE_KEYS:
            r.fail(Location(r.path, r.lines.get(f"objective.{name}"), f"objective.{name}"),
                   f"{name!r} is not a valid objective name",
                   "Name objectives with letters, digits, _ and - (not reward, horizon or discount)")
            continue
        objective = _read_objective(r, table, f"objective.{name}")
        if objective is not None:
            named.append((name, objective))
    return None, tuple(named)


def _read_objective_choice(t: _Table) -> tuple[bool, str | None]:
    """``(ok, name)``: the named objective a lemma scores with (None in a file with one [objective])."""
    names = t.reader.objective_names
    listed = ", ".join(f'"{n}"' for n in names or ())
    if "objective" not in t.data:
        if names is not None and len(names) > 1:
            t.fail("objective", f"missing key 'objective': the file names several objectives ({listed})",
                   f'Write objective = "NAME", one of {listed}')
            return False, None
        return True, names[0] if names else None
    value = t.data["objective"]
    if names is None:
        t.fail("objective", "the lemma chooses an objective, but the file has one unnamed [objective]",
               "Remove the key, or name the objectives [objective.NAME] and choose one here")
        return False, None
    if not isinstance(value, str) or value not in names:
        close = difflib.get_close_matches(value, names, n=1) if isinstance(value, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        shown = repr(value) if isinstance(value, str) else _describe(value)
        t.fail("objective", f"unknown objective {shown}{hint}", f'Write objective = one of {listed}')
        return False, None
    return True, value


def _read_expect(t: _Table) -> Expect:
    value = t.data.get("expect", "proved")
    try:
        return Expect(value)
    except ValueError:
        t.fail("expect", f"expect must be proved, refuted or unknown, got {_describe(value)}",
               'Write expect = "refuted" to keep a known reward hack as a regression, or leave it out')
        return Expect.PROVED


def _read_engine(t: _Table, names: tuple[str, ...]) -> str | None:
    if "engine" not in t.data:
        return None
    fix = "Write engine = " + " or ".join(f'"{n}"' for n in names) + ", or leave it out"
    value = t.string("engine", fix)
    if value is not None and value not in names:
        t.fail("engine", f"unknown engine {value!r}", fix)
        return None
    return value


def _read_desirable(t: _Table) -> tuple[tuple[Constraint, ...], tuple[Location, ...]] | None:
    fix = (
        """Write desirable = ['P<=0.01 [ F "fatal" ]', 'R{"harm"}<=0.1 [ C ]'], """
        "a non-empty array of strings"
    )
    if not t.present("desirable", fix):
        return None
    value = t.data["desirable"]
    if not isinstance(value, list) or not value:
        t.fail("desirable", f"expected a non-empty array of strings, got {_describe(value)}", fix)
        return None
    constraints: list[Constraint] = []
    places: list[Location] = []
    line = t.where("desirable").line
    for i, text in enumerate(value):
        where = Location(t.reader.path, line, f"{t.shown}.desirable[{i}]")
        if not isinstance(text, str):
            t.reader.fail(where, f"expected a constraint in a string, got {_describe(text)}", fix)
            continue
        try:
            constraints.append(parse_constraint(text, where))
            places.append(where)
        except InputError as exc:
            t.reader.errors.append(exc)
    return (tuple(constraints), tuple(places)) if len(constraints) == len(value) else None


def _read_alignment(t: _Table, id_: str) -> AlignmentLemma | None:
    epsilon, desirable = t.epsilon(), _read_desirable(t)
    margin = t.data.get("margin", False)
    if not isinstance(margin, bool):
        t.fail("margin", f"expected true or false, got {_describe(margin)}",
               "Write margin = true or leave it out")
    expect, engine = _read_expect(t), _read_engine(t, _ALIGNMENT_ENGINE_NAMES)
    chosen, objective = _read_objective_choice(t)
    if epsilon is None or desirable is None or not isinstance(margin, bool) or not chosen:
        return None
    return AlignmentLemma(id_, epsilon, desirable[0], expect, margin, engine, where=t.where(),
                          desirable_where=desirable[1], objective_name=objective)


def _read_policy(t: _Table, id_: str) -> PolicyLemma | None:
    fix = 'Write policy = "../policies/NAME.json" (.csv, .npy), or "module:function" for a Python callable'
    epsilon, expect, engine = t.epsilon(), _read_expect(t), _read_engine(t, _POLICY_ENGINE_NAMES)
    chosen, objective = _read_objective_choice(t)
    value = t.data.get("policy")
    is_code = isinstance(value, str) and _CALLABLE.match(value) is not None
    policy: Path | str | None
    if isinstance(value, str) and ".py:" in value:
        # a function in a Python file beside the obligations: resolve the file part like a path
        file_part, _, function = value.rpartition(":")
        resolved = (t.reader.base / file_part).resolve()
        if not resolved.is_file():
            t.fail("policy", f"no file {file_part!r} (looked for {resolved})", fix)
            return None
        policy = f"{resolved}:{function}"
    else:
        policy = value if is_code and isinstance(value, str) else t.path("policy", fix)
    if epsilon is None or policy is None or not chosen:
        return None
    return PolicyLemma(id_, policy, epsilon, expect, engine, where=t.where(), objective_name=objective)


def _read_certificate(t: _Table, id_: str) -> CertificateLemma | None:
    fix = 'Write from = ["ID.alignment", "ID.policy"]: one alignment lemma and one policy lemma'
    expect = _read_expect(t)
    if not t.present("from", fix):
        return None
    value = t.data["from"]
    if (not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) and v for v in value)
            or value[0] == value[1]):
        t.fail("from", f"expected two different lemma ids, got {_describe(value)}", fix)
        return None
    return CertificateLemma(id_, tuple(value), expect, where=t.where())


@dataclass(frozen=True)
class _LemmaRead:
    id: str | None  # None when the id is missing or invalid
    kind: str | None
    where: Location
    lemma: Lemma | None  # None when anything about it is wrong


_READERS = {"alignment": _read_alignment, "policy": _read_policy, "certificate": _read_certificate}


def _read_lemma(r: _Reader, index: int, value: object) -> _LemmaRead:
    lookup = f"lemma[{index}]"
    if not isinstance(value, dict):
        where = Location(r.path, r.lines.get(lookup), lookup)
        r.fail(where, f"expected a table, got {_describe(value)}", "Declare each lemma as a [[lemma]] table")
        return _LemmaRead(None, None, where, None)
    raw_id = value.get("id")
    id_ = raw_id if isinstance(raw_id, str) and _ID.match(raw_id) else None
    t = r.table(value, lookup, f'lemma."{id_}"' if id_ else lookup)
    fix = 'Write id = "NAME.alignment": letters, digits, _ . - (it names the certificate file)'
    if id_ is None and t.present("id", fix):
        t.fail("id", f"expected a lemma id, got {_describe(raw_id)}", fix)
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in _READERS:
        fix = 'Write kind = "alignment", "policy" or "certificate"'
        if t.present("kind", fix):
            close = difflib.get_close_matches(kind, list(_READERS), n=1) if isinstance(kind, str) else []
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            t.fail("kind", f"unknown lemma kind: {_describe(kind)}{hint}", fix)
        t.check_keys(_ANY_LEMMA_KEYS, "a lemma")
        return _LemmaRead(id_, None, t.where(), None)
    article = "an" if kind == "alignment" else "a"
    t.check_keys(_COMMON_KEYS + _KIND_KEYS[kind], f"{article} {kind} lemma")
    lemma = _READERS[kind](t, id_ or "")  # read even without an id, to report every problem
    return _LemmaRead(id_, kind, t.where(), lemma if id_ is not None else None)


def _read_lemmas(r: _Reader, value: object) -> list[_LemmaRead] | None:
    """Every ``[[lemma]]`` table, or ``None`` when there is no array of lemma tables at all."""
    if not isinstance(value, list) or not value:
        problem = ("the file declares no lemma" if value is None
                   else f"expected [[lemma]] tables, got {_describe(value)}")
        r.fail(Location(r.path, r.lines.get("lemma"), "lemma"), problem,
               "Declare lemmas as [[lemma]] tables with id, kind and their keys (see SPEC §5)")
        return None
    return [_read_lemma(r, index, item) for index, item in enumerate(value)]


@dataclass
class _FileRead:
    """What one file gave: the file (with only its valid lemmas), its errors, every declared id."""

    file: ObligationFile | None
    errors: list[InputError]
    declared: list[tuple[str, Location]]
    complete: bool  # the id of every lemma is known: the file parsed and each lemma has a valid id


def _parse_toml(path: Path, what: str = "obligation file") -> tuple[dict[str, object], str] | InputError:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return InputError(Location(path), f"cannot read the {what} ({exc})",
                          "Check the path; the file must be UTF-8 TOML")
    try:
        return tomllib.loads(text, parse_float=_exact_float), text
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        return InputError(Location(path, int(found.group(1)) if found else None), f"not valid TOML: {exc}",
                          "Fix the TOML syntax at the position shown")


def _check_top_keys(r: _Reader, data: Mapping[str, object]) -> None:
    for key in data:
        if key not in _TOP_KEYS:
            close = difflib.get_close_matches(key, _TOP_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            r.fail(Location(r.path, r.lines.get(key), key), f"unknown key {key!r}{hint}",
                   "An obligation file has [worldmodel], [objective] and [[lemma]] tables only (SPEC §5)")


def _check_tables_present(r: _Reader, data: Mapping[str, object], kinds: set[str]) -> None:
    for key in ("worldmodel", "objective"):
        if key not in data and kinds & {"alignment", "policy"}:
            r.fail(Location(r.path, None, key), f"missing [{key}] table",
                   f"Alignment and policy lemmas need a [{key}] table (see SPEC §5)")


def _read(path: Path) -> _FileRead:
    parsed = _parse_toml(path)
    if isinstance(parsed, InputError):
        return _FileRead(None, [parsed], [], False)
    data, text = parsed
    r = _Reader(path, _key_lines(text))
    _check_top_keys(r, data)
    worldmodel, constants = _read_worldmodel(r, data["worldmodel"]) if "worldmodel" in data else (None, ())
    objective, named = _read_objectives(r, data["objective"]) if "objective" in data else (None, ())
    reads = _read_lemmas(r, data.get("lemma")) or []
    _check_tables_present(r, data, {x.kind for x in reads if x.kind is not None})
    lemmas = tuple(x.lemma for x in reads if x.lemma is not None)
    obligation = ObligationFile(path.resolve(), worldmodel, objective, lemmas, shown_path=path,
                                key_lines=tuple(sorted(r.lines.items())), objectives=named,
                                worldmodel_constants=constants)
    declared = [(x.id, x.where) for x in reads if x.id is not None]
    complete = "lemma" not in data or (bool(reads) and all(x.id is not None for x in reads))
    return _FileRead(obligation, r.errors, declared, complete)


# -- across files -------------------------------------------------------------------------------
_Entry = tuple[ObligationFile, Lemma]


def _at(where: Location, key: str) -> Location:
    return Location(where.path, where.line, f"{where.key}.{key}")


def _duplicate_errors(declared: Sequence[tuple[str, Location]]) -> list[InputError]:
    first: dict[str, Location] = {}
    errors: list[InputError] = []
    for id_, where in declared:
        if id_ in first:
            errors.append(InputError(
                where, f"lemma id {id_!r} is declared twice: here and at {first[id_]}",
                "Ids are unique across all obligation files: rename one of the two lemmas"))
        else:
            first[id_] = where
    return errors


def _dangling_errors(c: CertificateLemma, index: Mapping[str, _Entry], known: set[str]) -> list[InputError]:
    errors: list[InputError] = []
    for j, ref in enumerate(c.premises):
        if ref not in known and ref not in index:
            close = difflib.get_close_matches(ref, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(InputError(
                _at(c.where, f"from[{j}]"),
                f"lemma {c.id!r} cites {ref!r}, which no obligation file declares{hint}",
                "Cite the id of an alignment or policy lemma declared in an obligation file"))
    return errors


def _composition_errors(c: CertificateLemma, premises: Sequence[_Entry]) -> list[InputError]:
    where = _at(c.where, "from")
    alignment = [(f, x) for f, x in premises if isinstance(x, AlignmentLemma)]
    policy = [(f, x) for f, x in premises if isinstance(x, PolicyLemma)]
    if len(alignment) != 1 or len(policy) != 1:
        cited = " and ".join(f"{x.id!r} (a {x.kind} lemma, {x.where})" for _, x in premises)
        return [InputError(where, f"lemma {c.id!r} cites {cited}",
                           "A certificate cites exactly one alignment lemma and one policy lemma")]
    (fa, a), (fp, p) = alignment[0], policy[0]
    ends = f"{a.id!r} ({a.where}) and {p.id!r} ({p.where})"
    errors: list[InputError] = []
    if None not in (fa.worldmodel_path, fp.worldmodel_path) and fa.worldmodel_path != fp.worldmodel_path:
        errors.append(InputError(where, f"the premises {ends} use different world models: "
                                 f"{fa.worldmodel_path} and {fp.worldmodel_path}",
                                 "Both lemmas of a composition must be proved on the same world model"))
    elif fa.worldmodel_constants != fp.worldmodel_constants:
        errors.append(InputError(where, f"the premises {ends} give the world model different constants: "
                                 f"{dict(fa.worldmodel_constants)} and {dict(fp.worldmodel_constants)}",
                                 "Both lemmas of a composition must be proved on the same world model"))
    if fa.objective is not None and fp.objective is not None and fa.objective != fp.objective:
        errors.append(InputError(
            where, f"the premises {ends} use different objectives: {fa.objective} and {fp.objective}",
            "Both lemmas of a composition must score policies with the same objective J"))
    if p.epsilon > a.epsilon:
        errors.append(InputError(
            where,
            f"ε_P = {format_rational(p.epsilon)} of policy lemma {p.id!r} ({p.where}) exceeds "
            f"ε_A = {format_rational(a.epsilon)} of alignment lemma {a.id!r} ({a.where})",
            "The composition needs ε_P ≤ ε_A: lower the policy lemma's epsilon or raise the alignment "
            "lemma's"))
    return errors


def _cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Every cycle closed by a back edge of a depth-first search, as ``[a, b, ..., a]``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    cycles: list[list[str]] = []
    for start in graph:
        if start in state:
            continue
        state[start] = 1
        path, stack = [start], [iter(graph[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph[nxt]))
    return cycles


def _cycle_errors(index: Mapping[str, _Entry]) -> list[InputError]:
    graph = {
        i: [p for p in x.premises if p in index]
        for i, (_, x) in index.items()
        if isinstance(x, CertificateLemma)
    }
    errors: list[InputError] = []
    for cycle in _cycles(graph):
        citing, cited = index[cycle[-2]][1], index[cycle[-1]][1]
        chain = " -> ".join(repr(i) for i in cycle)
        ends = (f"lemma {citing.id!r} cites itself" if citing is cited
                else f"{citing.id!r} ({citing.where}) cites {cited.id!r} ({cited.where})")
        errors.append(InputError(_at(citing.where, "from"), f"cycle of from references {chain}: {ends}",
                                 "A certificate cites an alignment lemma and a policy lemma, never itself "
                                 "or a certificate that depends on it"))
    return errors


def _reference_errors(files: Sequence[ObligationFile], known: set[str] | None) -> list[InputError]:
    """Dangling references (only when every declared id is ``known``), kinds, compositions, cycles."""
    index: dict[str, _Entry] = {}
    for f in files:
        for x in f.lemmas:
            index.setdefault(x.id, (f, x))
    errors: list[InputError] = []
    for f in files:
        for c in f.lemmas:
            if not isinstance(c, CertificateLemma):
                continue
            if known is not None:
                errors += _dangling_errors(c, index, known)
            premises = [index[ref] for ref in c.premises if ref in index]
            if len(premises) == len(c.premises):
                errors += _composition_errors(c, premises)
    return errors + _cycle_errors(index)


# -- public readers -----------------------------------------------------------------------------
def read_obligation_file(path: Path | str) -> ObligationFile:
    """Read and validate one obligation file on its own (no references to other files resolved).

    Parameters
    ----------
    path
        The ``.toml`` obligation file; relative paths inside it are resolved against its folder.

    Returns
    -------
    ObligationFile
        With absolute ``worldmodel_path`` and policy paths, exact numbers and parsed constraints.
        When the file names its objectives, ``objective`` is None: `ObligationFile.for_lemma`
        gives each lemma's.

    Raises
    ------
    InputError, InputErrors
        Every problem of the file at once (one `InputError` when there is only one).
    """
    read = _read(Path(path))
    InputErrors.raise_if_any(read.errors + _duplicate_errors(read.declared))
    assert read.file is not None
    return read.file


def load_obligations(paths: Iterable[Path | str]) -> list[ObligationFile]:
    """Read obligation files together and check the references between their lemmas.

    Checks, besides every per-file rule: ids unique across all files; every ``from`` id declared;
    no cycle of ``from`` references; each certificate cites one alignment and one policy lemma,
    both on the same world model (resolved path) and objective, with ε_P ≤ ε_A. A path given
    twice is read once.

    Parameters
    ----------
    paths
        Obligation files, e.g. from `discover`.

    Returns
    -------
    list of ObligationFile
        In the order given; a file with named objectives as its `ObligationFile.views`, so that
        the ``objective`` of each is the J of all its lemmas.

    Raises
    ------
    InputError, InputErrors
        Every problem of every file at once; cross-file problems name both ends.
    """
    unique: dict[Path, Path] = {}
    for p in paths:
        unique.setdefault(Path(p).resolve(), Path(p))
    reads = [_read(p) for p in unique.values()]
    declared = [d for r in reads for d in r.declared]
    errors = [e for r in reads for e in r.errors] + _duplicate_errors(declared)
    # A file that could not be read may declare the ids others cite: report no dangling reference then.
    known = {id_ for id_, _ in declared} if all(r.complete for r in reads) else None
    files = [view for r in reads if r.file is not None for view in r.file.views()]
    InputErrors.raise_if_any(errors + _reference_errors(files, known))
    return files


def discover(root: Path, settings: Settings) -> list[Path]:
    """The obligation files of a project: ``*.toml`` in its obligations folder, sorted.

    Returns an empty list when the folder does not exist.
    """
    folder = root / settings.obligations
    return sorted(p for p in folder.glob("*.toml") if p.is_file()) if folder.is_dir() else []


def _settings_path(t: _Table, key: str, default: Path) -> Path:
    if key not in t.data:
        return default
    text = t.string(key, f'Write {key} = "{default}", a folder relative to pyproject.toml')
    return Path(text) if text is not None else default


def _settings_timeout(t: _Table) -> float | None:
    if "timeout" not in t.data:
        return None
    fix = "Write timeout = 600 (seconds per lemma, > 0), or leave it out for no limit"
    value = t.number("timeout", fix)
    if value is not None and value <= 0:
        t.fail("timeout", f"timeout must be > 0 seconds, got {format_rational(value)}", fix)
        return None
    return float(value) if value is not None else None


def read_settings(pyproject: Path) -> Settings:
    """The ``[tool.proofs]`` settings of a project; defaults when the file or table is absent.

    Keys: ``obligations`` and ``certificates`` (folders), ``engine`` (default engine name) and
    ``timeout`` (seconds). Unknown keys are errors.

    Raises
    ------
    InputError, InputErrors
        For bad TOML or bad settings, every problem at once.
    """
    if not pyproject.is_file():
        return Settings()
    parsed = _parse_toml(pyproject, "project settings")
    if isinstance(parsed, InputError):
        raise parsed
    data, text = parsed
    tool = data.get("tool")
    section = tool.get("proofs") if isinstance(tool, dict) else None
    if section is None:
        return Settings()
    r = _Reader(pyproject, _key_lines(text))
    if not isinstance(section, dict):
        raise InputError(Location(pyproject, r.lines.get("tool.proofs"), "tool.proofs"),
                         f"expected a table, got {_describe(section)}", "Write a [tool.proofs] table")
    t = r.table(section, "tool.proofs", "tool.proofs")
    t.check_keys(("obligations", "certificates", "engine", "timeout"), "[tool.proofs]")
    engine = _read_engine(t, _ENGINE_NAMES) if "engine" in t.data else "auto"
    settings = Settings(_settings_path(t, "obligations", Settings.obligations),
                        _settings_path(t, "certificates", Settings.certificates),
                        engine or "auto", _settings_timeout(t))
    InputErrors.raise_if_any(r.errors)
    return settings


def statement_of(lemma: Lemma, objective: Objective | None) -> dict[str, Any]:
    """The lemma's `Statement` as the JSON its certificate stores (deterministic)."""
    from proofs.core.statement import Statement

    if isinstance(lemma, PolicyLemma):
        return Statement("policy", objective, lemma.epsilon).to_json()
    if isinstance(lemma, AlignmentLemma):
        return Statement("alignment", objective, lemma.epsilon, tuple(lemma.desirable)).to_json()
    assert isinstance(lemma, CertificateLemma)
    return Statement("certificate", premises=tuple(lemma.premises)).to_json()
