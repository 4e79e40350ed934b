"""The strict reading layer of certificate files: every field's type and shape, before any check.

TRUSTED. A certificate is untrusted JSON. Before the kernel looks at any number, the whole
document is matched against the shape its kind writes (`certificate_shape`): every object has an
exact key set (a missing or an unknown key is a rejection), every scalar its type, every number
written as text is an exact rational of bounded size (`rational`), every enclosure has lo ≤ hi.
A mismatch is a `FieldError` naming the field's path (``witness.constraints[0].lambda``), so a
malformed or edited certificate is rejected with a reason instead of crashing a checker.

Which fields the kernel then checks, and which are engine commentary, is listed in
docs/certificate-format.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction

from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.rational import MAX_DIGITS, ExpressionError, parse_rational

__all__ = ["MAX_DIGITS", "FieldError", "certificate_shape", "describe", "enclosure", "header", "rational",
           "short", "span", "validate", "validate_fields"]

_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))
_MAX_TEXT = 2 * MAX_DIGITS + 64
_LONG_DIGITS = re.compile(rf"\d{{{MAX_DIGITS + 1}}}")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FIX = "Re-run `proofs prove` to write a fresh certificate"


class FieldError(CheckFailure):
    """A field of a certificate with the wrong type or shape: ``field`` is its path."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or 'the document'}: {problem}. {_FIX}")
        self.field, self.problem = path, problem


def describe(value: object) -> str:
    """A short description of a JSON value for a message (long texts are cut)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value) if not isinstance(value, int) or value.bit_length() < 200 else "a very long integer"
        return f"the number {text}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}" + ("…" if len(value) > 40 else "")
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def rational(value: object, where: str) -> Fraction:
    """An exact rational written as text (``"1/3"``, ``"0.25"``, ``"-2e-3"``), of bounded size.

    Numerator and denominator may have at most `MAX_DIGITS` digits each (the limit of every
    number `proofs` reads, `proofs.core.rational`), so that no edited number
    (``"1e999999999"``, a 5,000-digit integer) can exhaust memory or time, or crash a message.
    """
    if not isinstance(value, str):
        raise FieldError(where, f"expected a number written as text, such as \"1/2\", got {describe(value)}")
    if len(value) > _MAX_TEXT or _LONG_DIGITS.search(value):
        raise FieldError(where, f"{describe(value)} has more than {MAX_DIGITS} digits")
    try:
        number = parse_rational(value)
    except (ExpressionError, ValueError, OverflowError) as exc:
        text = str(exc) if len(str(exc)) < 200 else f"{describe(value)} is not a number of bounded size"
        raise FieldError(where, text) from None
    if number.numerator.bit_length() > _MAX_BITS or number.denominator.bit_length() > _MAX_BITS:
        raise FieldError(where, f"{describe(value)} has more than {MAX_DIGITS} digits")
    return number


def enclosure(value: object, where: str) -> Enclosure:
    """An enclosure ``{"lo": ..., "hi": ...}`` with lo ≤ hi."""
    if not isinstance(value, dict) or set(value) != {"lo", "hi"}:
        raise FieldError(where, f"expected an enclosure {{\"lo\": ..., \"hi\": ...}}, got {describe(value)}")
    lo, hi = rational(value["lo"], f"{where}.lo"), rational(value["hi"], f"{where}.hi")
    if lo > hi:
        raise FieldError(where, f"the enclosure is empty: lo = {short(lo)} > hi = {short(hi)}")
    return Enclosure(lo, hi)


def short(x: Fraction) -> str:
    """A number in a message: exact when short, else 12 significant digits (any magnitude)."""
    if x.denominator < 10**6 and abs(x.numerator) < 10**12:
        return str(x)
    with localcontext() as context:
        context.prec = 12
        return str(Decimal(x.numerator) / Decimal(x.denominator))


def span(value: Enclosure) -> str:
    """An enclosure in a message, safe for any magnitude: ``x`` when exact, else ``[lo, hi]``."""
    return short(value.lo) if value.is_exact else f"[{short(value.lo)}, {short(value.hi)}]"


# -- shapes -------------------------------------------------------------------------------------------


class Shape:
    """What a JSON value must look like; `check` raises `FieldError` at the first mismatch."""

    def check(self, value: object, where: str) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Shape):
    choices: tuple[str, ...] = ()

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, str):
            raise FieldError(where, f"expected text, got {describe(value)}")
        if self.choices and value not in self.choices:
            raise FieldError(where, f"expected {' or '.join(map(repr, self.choices))}, got {describe(value)}")


class Sha256(Shape):
    def check(self, value: object, where: str) -> None:
        if not isinstance(value, str) or not _SHA256.match(value):
            raise FieldError(where, f"expected a SHA-256 (64 lowercase hex digits), got {describe(value)}")


@dataclass(frozen=True)
class Integer(Shape):
    lo: int = 0

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value.bit_length() > 62:
            raise FieldError(where, f"expected an integer, got {describe(value)}")
        if value < self.lo:
            raise FieldError(where, f"expected an integer ≥ {self.lo}, got {value}")


class Real(Shape):
    """A finite JSON number (engine commentary such as a diagnosis' floats)."""

    def check(self, value: object, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise FieldError(where, f"expected a finite number, got {describe(value)}")


class Boolean(Shape):
    """true, false, or null (undecided)."""

    def check(self, value: object, where: str) -> None:
        if value is not None and not isinstance(value, bool):
            raise FieldError(where, f"expected true, false or null, got {describe(value)}")


class Null(Shape):
    def check(self, value: object, where: str) -> None:
        if value is not None:
            raise FieldError(where, f"expected null, got {describe(value)}")


class Rational(Shape):
    def check(self, value: object, where: str) -> None:
        rational(value, where)


class EnclosureShape(Shape):
    def check(self, value: object, where: str) -> None:
        enclosure(value, where)


class Json(Shape):
    """Any JSON value: a field the kernel compares as a whole with what it derives itself."""

    def check(self, value: object, where: str) -> None:
        return None


@dataclass(frozen=True)
class Record(Shape):
    """An object with exactly the ``required`` keys, plus any of the ``optional`` ones."""

    required: Mapping[str, Shape]
    optional: Mapping[str, Shape] = field(default_factory=dict)

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise FieldError(where, f"expected an object, got {describe(value)}")
        for key in self.required:
            if key not in value:
                raise FieldError(_join(where, key), "this field is missing")
        for key in value:
            if key not in self.required and key not in self.optional:
                known = ", ".join(sorted([*self.required, *self.optional])) or "none"
                raise FieldError(_join(where, key), f"unknown field (the fields here are: {known})")
        for key, item in value.items():
            (self.required.get(key) or self.optional[key]).check(item, _join(where, key))


@dataclass(frozen=True)
class ListOf(Shape):
    item: Shape
    min_length: int = 0

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, list):
            raise FieldError(where, f"expected a list, got {describe(value)}")
        if len(value) < self.min_length:
            raise FieldError(where, "expected a non-empty list" if self.min_length == 1 else
                             f"expected at least {self.min_length} entries, got {len(value)}")
        for i, item in enumerate(value):
            self.item.check(item, f"{where}[{i}]")


@dataclass(frozen=True)
class MapOf(Shape):
    """An object with any keys (names of states, actions, lemmas), each value of one shape."""

    value: Shape

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise FieldError(where, f"expected an object, got {describe(value)}")
        for key, item in value.items():
            self.value.check(item, _join(where, key))


@dataclass(frozen=True)
class Switch(Shape):
    """The shape ``choose(value)`` picks (by a tag or a type), so messages name the right one."""

    choose: Callable[[object], Shape]

    def check(self, value: object, where: str) -> None:
        self.choose(value).check(value, where)


def _join(where: str, key: str) -> str:
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key)
    name = key if plain else repr(key[:40])
    return f"{where}.{name}" if where else name


def _tag(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, dict) else None


# -- the shapes engines write ----------------------------------------------------------------------------

RAT, ENC, TEXT = Rational(), EnclosureShape(), Text()
FILE = Record({"path": TEXT, "sha256": Sha256()})
OBJECTIVE = Record({"reward": TEXT, "discount": RAT,
                    "horizon": Switch(lambda v: Text(("geometric",)) if isinstance(v, str) else Integer(1))})
STEP_ACTION = Switch(lambda v: TEXT if isinstance(v, str) else MapOf(RAT))
EXACT_COMPONENT = Record(
    {"weight": RAT, "after_decided": Text(("J-optimal",)),
     "before_decided": Record({"format": Text(("proofs.policy/1",)), "steps": ListOf(MapOf(STEP_ACTION))})},
    {"values": Record({"j": ListOf(RAT), "w": ListOf(RAT)})})
FLOAT_COMPONENT = Record({"weight": RAT, "step_tables": TEXT, "after_decided": Text(("J-optimal",))},
                         {"encoding": Text(("plain", "delta", "changes"))})
EXACT_ALIGNMENT_WITNESS = Record(
    {"constraints": ListOf(Record({"lambda": RAT, "attained": Record({"mixture": ListOf(EXACT_COMPONENT, 1)})},
                                  {"values": ListOf(RAT)}))},
    {"j_values": ListOf(RAT)})
FLOAT_ALIGNMENT_WITNESS = Record(
    {"arithmetic": Text(("float",)), "states": Integer(0),
     "constraints": ListOf(Record({"lambda": RAT, "attained": Record({"mixture": ListOf(FLOAT_COMPONENT, 1)})}))},
    {"file": FILE, "tail": Integer(1)})   # the sidecar's arrays are handed to the float checkers separately
ALIGNMENT_ROW = Record({"constraint": TEXT, "threshold": RAT, "worst": ENC, "holds": Boolean(), "lambda": RAT})
DIRECT_ROW = Record({"constraint": TEXT, "threshold": RAT, "value": ENC, "holds": Boolean()})
DIAGNOSIS = Record({"state": TEXT, "step": Switch(lambda v: Null() if v is None else Integer(0)), "visits": Real(),
                    "loss": Real(), "action": TEXT, "optimal_action": TEXT})
SHIFT = Record({"down": RAT, "up": RAT})
ETA = Record({"lo": RAT}, {"hi": RAT, "environment": ListOf(MapOf(MapOf(MapOf(RAT))))})   # a model–reality margin
_POLICY_KINDS = Text(("backward-induction", "value-vectors"))
_BACKWARD = Record({"kind": _POLICY_KINDS, "arithmetic": Text(("exact", "float")), "steps": Integer(1)},
                   {"tail": Integer(1)})
_VECTORS_EXACT = Record({"kind": _POLICY_KINDS, "arithmetic": Text(("exact", "float")),
                         "optimal": Record({"values": MapOf(RAT), "shift": SHIFT}),
                         "policy": Record({"values": MapOf(RAT), "shift": SHIFT})})
_VECTORS_FLOAT = Record({"kind": _POLICY_KINDS, "arithmetic": Text(("exact", "float")),
                         "optimal": Record({"array": TEXT, "shift": SHIFT}),
                         "policy": Record({"array": TEXT, "shift": SHIFT})}, {"file": FILE})
POLICY_WITNESS = Switch(lambda v: _BACKWARD if _tag(v, "kind") == "backward-induction" else
                        _VECTORS_FLOAT if _tag(v, "arithmetic") == "float" else _VECTORS_EXACT)
KINDS = ("alignment", "policy", "certificate")
STATUSES = ("proved", "refuted", "unknown")
HEADER = Record({"lemma": Record({"id": TEXT, "kind": Text(KINDS)}, {"obligation": TEXT}),
                 "status": Text(STATUSES)})


def _alignment_witness(status: str) -> Shape:
    def choose(value: object) -> Shape:
        if isinstance(value, dict) and "arithmetic" in value:
            return FLOAT_ALIGNMENT_WITNESS
        if status == "unknown" and value == {}:
            return Record({})   # an unknown verdict without a witness claims nothing
        return EXACT_ALIGNMENT_WITNESS
    return Switch(choose)


def certificate_shape(kind: str, status: str) -> Record:
    """The shape of a certificate of this kind and status, as `proofs prove` writes it."""
    common: dict[str, Shape] = {"format": TEXT, "lemma": HEADER.required["lemma"], "statement": Json(),
                                "status": Text(STATUSES), "engine": Record({"name": TEXT, "version": TEXT})}
    worldmodel = Record({"path": TEXT, "sha256": Sha256(), "canonical": Sha256()},
                        {"constants": MapOf(TEXT), "atoms": ListOf(TEXT)})   # of a standalone certificate
    if kind == "policy":
        policy = Switch(lambda v: Record({"table_sha256": Sha256(), "file": TEXT})
                        if isinstance(v, dict) and "file" in v else Record({"table_sha256": Sha256(), "table": Json()}))
        return Record({**common, "witness": POLICY_WITNESS,
                       "inputs": Record({"worldmodel": worldmodel, "policy": policy}),
                       "values": Record({"j_policy": ENC, "j_star": ENC, "gap": ENC}, {"eta": ETA}),
                       "diagnosis": ListOf(DIAGNOSIS)})
    if kind == "alignment":
        required: dict[str, Shape] = {**common, "inputs": Record({"worldmodel": worldmodel}),
                                      "witness": _alignment_witness(status),
                                      "values": Record({"j_star": ENC, "constraints": ListOf(ALIGNMENT_ROW)},
                                                       {"margin": Switch(lambda v: Text(("inf",)) if isinstance(
                                                           v, str) else ENC), "eta": ETA})}
        counterexample = Switch(lambda v: Record({"constraint": Integer(0), "mixture": ListOf(
            FLOAT_COMPONENT if isinstance(v, dict) and isinstance(v.get("mixture"), list) and any(
                isinstance(c, dict) and "step_tables" in c for c in v["mixture"]) else EXACT_COMPONENT,
            1)}))
        if status == "refuted":
            required["counterexample"] = counterexample
        return Record(required, {"reason": TEXT})
    return Record({**common, "inputs": Record({"premises": MapOf(Switch(
                       lambda v: Text(("missing",)) if v == "missing" else Sha256()))}),
                   "values": Record({"premises": ListOf(TEXT), "direct": ListOf(DIRECT_ROW)}, {"eta": ETA})},
                  {"reason": TEXT})


def header(doc: Mapping[str, object]) -> tuple[str, str]:
    """The certificate's kind and status, after checking the fields that name them."""
    HEADER.check({k: doc[k] for k in ("lemma", "status") if k in doc}, "")
    lemma = doc["lemma"]
    assert isinstance(lemma, dict)
    return str(lemma["kind"]), str(doc["status"])


def validate(doc: Mapping[str, object]) -> tuple[str, str]:
    """Match a whole certificate against the shape of its kind; returns (kind, status)."""
    kind, status = header(doc)
    certificate_shape(kind, status).check(dict(doc), "")
    return kind, status


def validate_fields(doc: object, kind: str, keys: tuple[str, ...]) -> str:
    """Match only the named fields of a (possibly partial) certificate; returns its status.

    Used by the checkers themselves, which engines and tests also call on the fields alone.
    """
    if not isinstance(doc, dict):
        raise FieldError("", f"expected a JSON object, got {describe(doc)}")
    if "status" not in doc:
        raise FieldError("status", "this field is missing")
    Text(STATUSES).check(doc["status"], "status")
    shape = certificate_shape(kind, doc["status"])
    for key in keys:
        if key in shape.required:
            if key not in doc:
                raise FieldError(key, "this field is missing")
            shape.required[key].check(doc[key], key)
        elif key in doc:
            if key not in shape.optional:
                raise FieldError(key, f"unknown field for a {doc['status']} {kind} certificate")
            shape.optional[key].check(doc[key], key)
    return str(doc["status"])
