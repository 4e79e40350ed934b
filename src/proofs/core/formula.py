"""The PRISM property subset of SPEC §2, as frozen syntax trees.

TRUSTED (reading base). State formulas (`Label`, `Truth`, `Not`, `And`, `Or`), path formulas
(`Until`, with `Eventually` and `Globally` as sugar kept for printing), and the constraints of Φ
(`ProbabilityConstraint`, `RewardConstraint`). `str()` gives canonical PRISM text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Union

from proofs.core.rational import format_rational

__all__ = [
    "And",
    "Atom",
    "Comparison",
    "Constraint",
    "constraint_from_json",
    "Eventually",
    "FormulaError",
    "Globally",
    "Label",
    "Not",
    "Or",
    "PathFormula",
    "ProbabilityConstraint",
    "Query",
    "ReachAvoid",
    "RewardConstraint",
    "StateFormula",
    "Truth",
    "Until",
    "atoms_of",
    "labels_of",
    "reach_avoid",
    "state_from_json",
    "to_json",
]


class Comparison(Enum):
    LE = "<="
    LT = "<"
    GE = ">="
    GT = ">"

    @property
    def is_upper(self) -> bool:
        """True for ``<=``/``<``: the quantity must stay low, so its worst case is the highest."""
        return self in (Comparison.LE, Comparison.LT)

    def decide(self, lo: Fraction, hi: Fraction, threshold: Fraction) -> bool | None:
        """Whether a value known only to lie in [lo, hi] satisfies the comparison: True or False
        when every value of the interval agrees (the comparison is monotone, so the two ends
        decide), None when the interval straddles the threshold."""
        at_lo, at_hi = self.holds(lo, threshold), self.holds(hi, threshold)
        return at_lo if at_lo == at_hi else None

    def holds(self, value: Fraction, threshold: Fraction) -> bool:
        return {
            Comparison.LE: value <= threshold,
            Comparison.LT: value < threshold,
            Comparison.GE: value >= threshold,
            Comparison.GT: value > threshold,
        }[self]


@dataclass(frozen=True)
class Label:
    name: str

    def __str__(self) -> str:
        return f'"{self.name}"'


@dataclass(frozen=True)
class Truth:
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True)
class Atom:
    """A comparison of a PRISM program's variable, ``s=9`` or ``t>=deadline`` (PRISM-language models).

    ``value`` is an integer literal, ``true``/``false`` or the name of a program constant; a bare
    boolean variable ``b`` is ``Atom("b", "=", "true")``. Evaluated on the valuation that names
    each state of a PRISM-language model (``s=9,t=2``).
    """

    variable: str
    op: str      # "=", "!=", "<", "<=", ">", ">="
    value: str

    def __str__(self) -> str:
        return f"{self.variable}{self.op}{self.value}"


@dataclass(frozen=True)
class Not:
    operand: StateFormula

    def __str__(self) -> str:
        inner = str(self.operand)
        return f"!{inner}" if isinstance(self.operand, (Label, Truth, Not)) else f"!({inner})"


@dataclass(frozen=True)
class And:
    left: StateFormula
    right: StateFormula

    def __str__(self) -> str:
        return f"{_wrap(self.left, Or)} & {_wrap(self.right, (Or, And))}"


@dataclass(frozen=True)
class Or:
    left: StateFormula
    right: StateFormula

    def __str__(self) -> str:
        return f"{self.left} | {_wrap(self.right, Or)}"


StateFormula = Union[Label, Truth, Atom, Not, And, Or]


def _wrap(f: StateFormula, kinds: type | tuple[type, ...]) -> str:
    return f"({f})" if isinstance(f, kinds) else str(f)


def _bound(k: int | None) -> str:
    return "" if k is None else f"<={k}"


@dataclass(frozen=True)
class Until:
    """``left U<=bound right``: right at some step t (<= bound), left at every earlier step."""

    left: StateFormula
    right: StateFormula
    bound: int | None = None

    def __str__(self) -> str:
        return f"{_wrap(self.left, (And, Or))} U{_bound(self.bound)} {_wrap(self.right, (And, Or))}"


@dataclass(frozen=True)
class Eventually:
    """``F<=bound body``, i.e. ``true U<=bound body``."""

    body: StateFormula
    bound: int | None = None

    def __str__(self) -> str:
        return f"F{_bound(self.bound)} {self.body}"


@dataclass(frozen=True)
class Globally:
    """``G<=bound body``, i.e. not ``F<=bound !body``."""

    body: StateFormula
    bound: int | None = None

    def __str__(self) -> str:
        return f"G{_bound(self.bound)} {self.body}"


PathFormula = Union[Until, Eventually, Globally]


@dataclass(frozen=True)
class ProbabilityConstraint:
    comparison: Comparison
    threshold: Fraction
    path: PathFormula

    def __str__(self) -> str:
        return f"P{self.comparison.value}{format_rational(self.threshold)} [ {self.path} ]"


@dataclass(frozen=True)
class RewardConstraint:
    """``R{"reward"}<=x [ C ]`` or ``[ C<=bound ]``: expected undiscounted cumulative reward."""

    reward: str
    comparison: Comparison
    threshold: Fraction
    bound: int | None = None

    def __str__(self) -> str:
        return f'R{{"{self.reward}"}}{self.comparison.value}{format_rational(self.threshold)} [ C{_bound(self.bound)} ]'


Constraint = Union[ProbabilityConstraint, RewardConstraint]


def labels_of(f: StateFormula | PathFormula | Constraint) -> frozenset[str]:
    """Every label a formula mentions (to resolve against a model)."""
    if isinstance(f, Label):
        return frozenset({f.name})
    if isinstance(f, (Truth, Atom, RewardConstraint)):
        return frozenset()
    if isinstance(f, Not):
        return labels_of(f.operand)
    if isinstance(f, (And, Or)):
        return labels_of(f.left) | labels_of(f.right)
    if isinstance(f, Until):
        return labels_of(f.left) | labels_of(f.right)
    if isinstance(f, (Eventually, Globally)):
        return labels_of(f.body)
    return labels_of(f.path)


def atoms_of(f: StateFormula | PathFormula | Constraint | Query) -> frozenset[Atom]:
    """Every variable atom a formula mentions (the translation adds a label for each)."""
    if isinstance(f, Atom):
        return frozenset({f})
    if isinstance(f, (Label, Truth, RewardConstraint)):
        return frozenset()
    if isinstance(f, Not):
        return atoms_of(f.operand)
    if isinstance(f, (And, Or, Until)):
        return atoms_of(f.left) | atoms_of(f.right)
    if isinstance(f, (Eventually, Globally)):
        return atoms_of(f.body)
    if isinstance(f, Query):
        parts = [g for g in (f.path, f.target) if g is not None]
        return frozenset().union(*(atoms_of(g) for g in parts))
    return atoms_of(f.path)


@dataclass(frozen=True)
class Query:
    """A PRISM numerical query, as ``proofs eval`` reads it (never part of Φ).

    ``P{max,min}=? [ path ]`` (``probability`` is its path formula) or
    ``R{"c"}{max,min}=? [ C<=k ]``, ``[ C ]`` or ``[ F target ]`` (``reward`` is the structure's
    name, ``None`` for an unnamed ``Rmax=?``, meaning the model's only one). ``direction`` is
    ``"max"``, ``"min"`` or ``None`` (``P=?``: the value of a given policy).
    """

    direction: str | None
    path: PathFormula | None = None
    reward: str | None = None
    bound: int | None = None
    target: StateFormula | None = None

    def __str__(self) -> str:
        op = "=?" if self.direction is None else f"{self.direction}=?"
        if self.path is not None:
            return f"P{op} [ {self.path} ]"
        name = "" if self.reward is None else f'{{"{self.reward}"}}'
        body = f"F {self.target}" if self.target is not None else f"C{_bound(self.bound)}"
        return f"R{name}{op} [ {body} ]"


@dataclass(frozen=True)
class ReachAvoid:
    """The one path shape the semantics knows: ``continue_ U<=bound stop``, possibly complemented.

    The probability of the path formula is ``P(continue_ U<=bound stop)`` when ``negated`` is false,
    and ``1 - P(...)`` when it is true (``G φ`` is ``1 - P(true U !φ)``).
    """

    continue_: StateFormula
    stop: StateFormula
    bound: int | None
    negated: bool


def reach_avoid(path: PathFormula) -> ReachAvoid:
    if isinstance(path, Until):
        return ReachAvoid(path.left, path.right, path.bound, False)
    if isinstance(path, Eventually):
        return ReachAvoid(Truth(True), path.body, path.bound, False)
    return ReachAvoid(Truth(True), Not(path.body), path.bound, True)


# -- the JSON form a certificate's statement stores (one writer, one strict reader) ------------
_MAX_DEPTH = 64


def to_json(f: StateFormula | PathFormula | Constraint) -> object:
    """The structured JSON of a formula or constraint, read back by `constraint_from_json`.

    >>> to_json(ProbabilityConstraint(Comparison.LE, Fraction(1, 100), Eventually(Label("fatal"))))
    {'probability': {'eventually': {'label': 'fatal'}, 'bound': None}, 'op': '<=', 'threshold': '1/100'}
    """
    if isinstance(f, Truth):
        return f.value
    if isinstance(f, Label):
        return {"label": f.name}
    if isinstance(f, Atom):
        return {"atom": {"variable": f.variable, "op": f.op, "value": f.value}}
    if isinstance(f, Not):
        return {"not": to_json(f.operand)}
    if isinstance(f, And):
        return {"and": [to_json(f.left), to_json(f.right)]}
    if isinstance(f, Or):
        return {"or": [to_json(f.left), to_json(f.right)]}
    if isinstance(f, Until):
        return {"until": [to_json(f.left), to_json(f.right)], "bound": f.bound}
    if isinstance(f, Eventually):
        return {"eventually": to_json(f.body), "bound": f.bound}
    if isinstance(f, Globally):
        return {"globally": to_json(f.body), "bound": f.bound}
    if isinstance(f, ProbabilityConstraint):
        return {"probability": to_json(f.path), "op": f.comparison.value, "threshold": format_rational(f.threshold)}
    assert isinstance(f, RewardConstraint)
    return {"reward": f.reward, "op": f.comparison.value, "threshold": format_rational(f.threshold),
            "bound": f.bound}


class FormulaError(ValueError):
    """JSON that is not a formula `to_json` writes; the message names the place."""


def _keys(data: object, keys: set[str], where: str) -> dict[str, object]:
    if not isinstance(data, dict) or set(data) != keys:
        raise FormulaError(f"{where}: expected an object with the keys {sorted(keys)}")
    return data


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise FormulaError(f"{where}: expected a non-empty name")
    return value


def _step_bound(value: object, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**40:
        raise FormulaError(f"{where}: a step bound is null or an integer from 0 to 2**40")
    return value


def state_from_json(data: object, where: str = "formula", depth: int = 0) -> StateFormula:
    """The state formula of `to_json`'s output, strictly."""
    if depth > _MAX_DEPTH:
        raise FormulaError(f"{where}: nested more than {_MAX_DEPTH} deep")
    if isinstance(data, bool):
        return Truth(data)
    if not isinstance(data, dict) or len(data) != 1:
        raise FormulaError(f"{where}: expected true, false or an object with one key")
    (key, value), = data.items()
    if key == "label":
        return Label(_text(value, f"{where}.label"))
    if key == "atom":
        atom = _keys(value, {"variable", "op", "value"}, f"{where}.atom")
        if atom["op"] not in ("=", "!=", "<", "<=", ">", ">="):
            raise FormulaError(f"{where}.atom.op: not a comparison")
        return Atom(_text(atom["variable"], f"{where}.atom"), str(atom["op"]), _text(atom["value"], f"{where}.atom"))
    if key == "not":
        return Not(state_from_json(value, f"{where}.not", depth + 1))
    if key in ("and", "or"):
        if not isinstance(value, list) or len(value) != 2:
            raise FormulaError(f"{where}.{key}: expected two operands")
        left, right = (state_from_json(v, f"{where}.{key}[{i}]", depth + 1) for i, v in enumerate(value))
        return And(left, right) if key == "and" else Or(left, right)
    raise FormulaError(f"{where}: unknown key {key[:40]!r}")


def _path_from_json(data: object, where: str) -> PathFormula:
    if not isinstance(data, dict) or len(data) != 2 or "bound" not in data:
        raise FormulaError(f"{where}: expected a path formula (until, eventually or globally, with a bound)")
    bound = _step_bound(data["bound"], f"{where}.bound")
    key = next(k for k in data if k != "bound")
    if key == "until":
        parts = data["until"]
        if not isinstance(parts, list) or len(parts) != 2:
            raise FormulaError(f"{where}.until: expected two operands")
        return Until(state_from_json(parts[0], f"{where}.until[0]"), state_from_json(parts[1], f"{where}.until[1]"),
                     bound)
    if key == "eventually":
        return Eventually(state_from_json(data[key], f"{where}.eventually"), bound)
    if key == "globally":
        return Globally(state_from_json(data[key], f"{where}.globally"), bound)
    raise FormulaError(f"{where}: unknown path operator {key[:40]!r}")


def constraint_from_json(data: object, where: str = "constraint") -> Constraint:
    """A constraint of Φ from `to_json`'s output, strictly (a wrong shape is a `FormulaError`)."""
    from proofs.core.rational import parse_rational

    if not isinstance(data, dict):
        raise FormulaError(f"{where}: expected an object")
    try:
        comparison = Comparison(data.get("op"))
    except ValueError:
        raise FormulaError(f"{where}.op: expected one of <=, <, >=, >") from None
    threshold_text = data.get("threshold")
    if not isinstance(threshold_text, str) or len(threshold_text) > 200:
        raise FormulaError(f"{where}.threshold: expected a number written as text")
    try:
        threshold = parse_rational(threshold_text)
    except (ValueError, ArithmeticError):
        raise FormulaError(f"{where}.threshold: {threshold_text[:40]!r} is not a number") from None
    if "probability" in data:
        _keys(data, {"probability", "op", "threshold"}, where)
        return ProbabilityConstraint(comparison, threshold, _path_from_json(data["probability"], f"{where}.probability"))
    _keys(data, {"reward", "op", "threshold", "bound"}, where)
    return RewardConstraint(_text(data["reward"], f"{where}.reward"), comparison, threshold,
                            _step_bound(data["bound"], f"{where}.bound"))
