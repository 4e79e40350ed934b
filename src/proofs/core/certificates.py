"""One certificate type: the whole `proofs.certificate/1` document as frozen dataclasses.

TRUSTED (reading base). A certificate is read by exactly one parser, `Certificate.from_json`,
and written by exactly one writer, `Certificate.to_json` (whose dict `proofs.core.certificate.dump`
turns into the file's bytes). The parser first runs the strict shape check of
`proofs.core.schema.validate` (a `FieldError` naming the field's path), then reads the statement
with `Statement.from_json` (a `StatementError`), then builds the objects; nothing else can fail.
It checks shapes, not consistency: whether the statement's kind is the lemma's, the objective the
statement's, the witness valid, is the kernel's business.

For every document the parser accepts, ``Certificate.from_json(doc).to_json() == doc``:

* Exact numbers (texts such as ``"1/2"``) become `Fraction`s and enclosures `Enclosure`s. The
  writer writes a `Fraction` with `format_rational`, the function every engine writes them with;
  a number whose text is not that canonical one (``"0.25"``, ``"2/4"``, which the schema also
  accepts) is read as a `Written`, a `Fraction` that keeps its text, and written back as read.
  Equality of the objects is equality of the numbers (``Written("0.25") == Fraction(1, 4)``).
* Values the kernel compares as a whole with what it derives itself stay JSON, made immutable by
  `freeze` (objects become read-only `MappingProxyType`s, lists tuples, texts stay texts): the
  inline policy table document (`PolicyInput.table`) and the per-step exact policy of a mixture
  component (`ExactComponent.steps`, the ``steps`` of its ``before_decided`` table). `thaw` gives
  them back as plain JSON. Such fields make an object unhashable; it is still frozen.
* Engine commentary keeps its JSON types (a diagnosis' ``visits`` and ``loss`` are floats or
  integers as written).

Layout: `Certificate` holds the common header (``format``, `Lemma`, `Statement`, `Inputs`,
``status``, `Engine`) and a kind-specific ``body``: `PolicyBody`, `AlignmentBody` or
`CompositionBody`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal, Self, TypeAlias

from proofs.core.enclosure import Enclosure
from proofs.core.objective import Objective
from proofs.core.rational import format_rational, parse_rational
from proofs.core.schema import FieldError, describe, validate
from proofs.core.statement import Statement

__all__ = ["AlignmentBody", "AlignmentRow", "AlignmentValues", "AlignmentWitness", "BackwardInduction",
           "Body", "Certificate", "Component", "CompositionBody", "CompositionValues", "Counterexample",
           "DiagnosisRow", "DirectRow", "Engine", "Environment", "Eta", "ExactAlignmentWitness", "ExactComponent",
           "ExactConstraintWitness", "ExactValueVectors", "ExactVector", "FloatAlignmentWitness",
           "FloatComponent", "FloatConstraintWitness", "FloatValueVectors", "FloatVector", "Inputs",
           "JsonValue", "Lemma", "Mixture", "PolicyBody", "PolicyInput", "PolicyValues", "PolicyWitness",
           "Shift", "SidecarFile", "WorldModelInput", "Written", "freeze", "number", "text_of", "thaw"]

JsonValue: TypeAlias = None | bool | int | float | str | tuple["JsonValue", ...] | Mapping[str, "JsonValue"]
"""Immutable JSON: objects are read-only mappings, lists tuples (see `freeze`)."""


# -- numbers and immutable JSON ---------------------------------------------------------------


class Written(Fraction):
    """A `Fraction` read from a text that is not its canonical `format_rational` text (``"0.25"``):
    it keeps the text, so that the writer writes the number as it was read."""

    __slots__ = ("_text",)
    _text: str

    def __new__(cls, text: str) -> Self:
        value = parse_rational(text)
        self = super().__new__(cls, value.numerator, value.denominator)
        self._text = text
        return self

    @property
    def text(self) -> str:
        return self._text

    def __reduce__(self) -> tuple[type[Written], tuple[str]]:
        return (type(self), (self._text,))

    def __copy__(self) -> Written:
        return self

    def __deepcopy__(self, memo: object) -> Written:
        return self

    def __repr__(self) -> str:
        return f"Written({self._text!r})"


def number(text: str) -> Fraction:
    """The exact number a (validated) text stands for: a `Fraction`, or a `Written` when the text
    is not the canonical one `text_of` would write."""
    value = parse_rational(text)
    return value if format_rational(value) == text else Written(text)


def text_of(value: Fraction) -> str:
    """The text of a number: as read for a `Written`, else `format_rational` (what engines write)."""
    return value.text if isinstance(value, Written) else format_rational(value)


def freeze(value: Any) -> JsonValue:
    """A JSON value made immutable: objects become read-only mappings, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    result: JsonValue = value
    return result


def thaw(value: JsonValue) -> Any:
    """The plain JSON (dicts and lists) of a frozen value."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def _enclosure(data: Mapping[str, str]) -> Enclosure:
    return Enclosure(number(data["lo"]), number(data["hi"]))


def _enclosure_json(value: Enclosure) -> dict[str, str]:
    return {"lo": text_of(value.lo), "hi": text_of(value.hi)}


def _numbers(texts: list[str]) -> tuple[Fraction, ...]:
    return tuple(number(t) for t in texts)


def _texts(values: tuple[Fraction, ...]) -> list[str]:
    return [text_of(v) for v in values]


# -- the header ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lemma:
    """``lemma``: which lemma of which obligation file (none: a standalone certificate) it is for."""

    id: str
    kind: str            # "policy", "alignment" or "certificate"
    obligation: str | None = None    # the obligation file, relative to the project root

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in (("id", self.id), ("kind", self.kind), ("obligation", self.obligation)) if v}


@dataclass(frozen=True)
class Engine:
    """``engine``: who made the certificate (commentary)."""

    name: str
    version: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True)
class WorldModelInput:
    """``inputs.worldmodel``: the source file and the canonical model it translates to."""

    path: str
    sha256: str
    canonical: str
    constants: Mapping[str, str] | None = None    # a standalone certificate's PRISM constants
    atoms: tuple[str, ...] | None = None          # and the atoms of Φ labelled in its canonical model

    def to_json(self) -> dict[str, Any]:
        out = {"path": self.path, "sha256": self.sha256, "canonical": self.canonical, "atoms": self.atoms,
               "constants": None if self.constants is None else dict(self.constants)}
        return {k: list(v) if k == "atoms" else v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class PolicyInput:
    """``inputs.policy``: the canonical table's hash, and the table inline or its sidecar's name
    (exactly one of ``table`` and ``file`` is set)."""

    table_sha256: str
    table: JsonValue = None      # the inline `proofs.policy/1` document, frozen
    file: str | None = None      # ``LEMMA.table``, beside the certificate

    def to_json(self) -> dict[str, Any]:
        if self.file is not None:
            return {"table_sha256": self.table_sha256, "file": self.file}
        return {"table_sha256": self.table_sha256, "table": thaw(self.table)}


@dataclass(frozen=True)
class Inputs:
    """``inputs``: a policy certificate has ``worldmodel`` and ``policy``, an alignment one
    ``worldmodel``, a composition ``premises`` (lemma id → the premise certificate's SHA-256, or
    ``"missing"``)."""

    worldmodel: WorldModelInput | None = None
    policy: PolicyInput | None = None
    premises: Mapping[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"worldmodel": self.worldmodel and self.worldmodel.to_json(), "policy": self.policy and self.policy.to_json(),
               "premises": None if self.premises is None else dict(self.premises)}
        return {key: value for key, value in out.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Inputs:
        world, policy, premises = data.get("worldmodel"), data.get("policy"), data.get("premises")
        return cls(None if world is None else WorldModelInput(
                       world["path"], world["sha256"], world["canonical"], MappingProxyType(dict(world["constants"]))
                       if "constants" in world else None, tuple(world["atoms"]) if "atoms" in world else None),
                   None if policy is None else PolicyInput(policy["table_sha256"], freeze(policy.get("table")),
                                                           policy.get("file")),
                   None if premises is None else MappingProxyType(dict(premises)))


@dataclass(frozen=True)
class SidecarFile:
    """``witness.file``: the ``.npz`` sidecar of a float witness, and its SHA-256."""

    path: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256}

    @classmethod
    def read(cls, data: Mapping[str, Any] | None) -> SidecarFile | None:
        return None if data is None else cls(data["path"], data["sha256"])


def _objective(data: Mapping[str, Any]) -> Objective:
    horizon = data["horizon"]
    try:
        return Objective(data["reward"], None if horizon == "geometric" else horizon, number(data["discount"]))
    except ValueError as exc:
        raise FieldError("objective", str(exc)) from None


# -- policy certificates ------------------------------------------------------------------------


Environment = tuple[Mapping[str, Mapping[str, Mapping[str, Fraction]]], ...]   # per step: state → action → row


@dataclass(frozen=True)
class Eta:
    """The model–reality margin of a proved lemma: it holds in every environment within total
    variation ``lo`` of the model at every step; ``environment`` (its rows that differ from the
    model's, per step) is within ``hi`` and breaks it."""

    lo: Fraction
    hi: Fraction | None = None
    environment: Environment | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lo": text_of(self.lo)}
        if self.hi is not None and self.environment is not None:
            out["hi"] = text_of(self.hi)
            out["environment"] = [{s: {a: {t: text_of(p) for t, p in row.items()} for a, row in acts.items()}
                                   for s, acts in step.items()} for step in self.environment]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Eta:
        env = data.get("environment")
        return cls(number(data["lo"]), number(data["hi"]) if "hi" in data else None,
                   None if env is None else tuple({s: {a: {t: number(p) for t, p in row.items()} for a, row in acts.items()}
                                                   for s, acts in step.items()} for step in env))


@dataclass(frozen=True)
class PolicyValues:
    """``values`` of a policy certificate: J(π₀), J* and the gap J* − J(π₀); ``eta`` its margin."""

    j_policy: Enclosure
    j_star: Enclosure
    gap: Enclosure
    eta: Eta | None = None


@dataclass(frozen=True)
class BackwardInduction:
    """The witness of a finite horizon: the kernel redoes ``steps`` steps of backward induction (the
    last ``tail`` + 1 only, and slopes before them: `proofs.kernel.check_policy`)."""

    arithmetic: str      # "exact" or "float"
    steps: int
    tail: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"kind": "backward-induction", "arithmetic": self.arithmetic, "steps": self.steps, "tail": self.tail}
        return {key: value for key, value in out.items() if value is not None}


@dataclass(frozen=True)
class Shift:
    """How far the kernel may shift a value vector down and up (``{"down", "up"}``)."""

    down: Fraction
    up: Fraction

    def to_json(self) -> dict[str, str]:
        return {"down": text_of(self.down), "up": text_of(self.up)}

    @classmethod
    def read(cls, data: Mapping[str, str]) -> Shift:
        return cls(number(data["down"]), number(data["up"]))


@dataclass(frozen=True)
class ExactVector:
    """An exact value vector: state name → value."""

    values: Mapping[str, Fraction]
    shift: Shift

    def to_json(self) -> dict[str, Any]:
        return {"values": {s: text_of(v) for s, v in self.values.items()}, "shift": self.shift.to_json()}


@dataclass(frozen=True)
class FloatVector:
    """A float value vector: the name of its array in the witness sidecar."""

    array: str
    shift: Shift

    def to_json(self) -> dict[str, Any]:
        return {"array": self.array, "shift": self.shift.to_json()}


@dataclass(frozen=True)
class ExactValueVectors:
    """The witness of a geometric horizon, exact: the optimal values and the policy's values."""

    optimal: ExactVector
    policy: ExactVector

    def to_json(self) -> dict[str, Any]:
        return {"kind": "value-vectors", "arithmetic": "exact", "optimal": self.optimal.to_json(),
                "policy": self.policy.to_json()}


@dataclass(frozen=True)
class FloatValueVectors:
    """The witness of a geometric horizon in floats: arrays of the sidecar ``file``."""

    optimal: FloatVector
    policy: FloatVector
    file: SidecarFile | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "value-vectors", "arithmetic": "float", "optimal": self.optimal.to_json(),
                               "policy": self.policy.to_json()}
        if self.file is not None:
            out["file"] = self.file.to_json()
        return out


PolicyWitness: TypeAlias = BackwardInduction | ExactValueVectors | FloatValueVectors


def _policy_witness(data: Mapping[str, Any]) -> PolicyWitness:
    if data["kind"] == "backward-induction":
        return BackwardInduction(data["arithmetic"], data["steps"], data.get("tail"))
    if data["arithmetic"] == "float":
        optimal, policy = (FloatVector(data[k]["array"], Shift.read(data[k]["shift"])) for k in ("optimal", "policy"))
        return FloatValueVectors(optimal, policy, SidecarFile.read(data.get("file")))
    exact_optimal, exact_policy = (
        ExactVector(MappingProxyType({s: number(v) for s, v in data[k]["values"].items()}), Shift.read(data[k]["shift"]))
        for k in ("optimal", "policy"))
    return ExactValueVectors(exact_optimal, exact_policy)


@dataclass(frozen=True)
class DiagnosisRow:
    """Where the policy loses value (engine commentary, in floats)."""

    state: str
    step: int | None
    visits: float
    loss: float
    action: str
    optimal_action: str

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "step": self.step, "visits": self.visits, "loss": self.loss,
                "action": self.action, "optimal_action": self.optimal_action}


def _stated(doc: Mapping[str, Any], statement: Statement | None) -> tuple[Objective, Fraction]:
    """The objective and ε a body is about: the statement's (a certificate stores them there
    once), else the ``objective`` and ``epsilon`` of fields an engine returned on their own."""
    if statement is not None:
        assert statement.objective is not None and statement.epsilon is not None
        return statement.objective, statement.epsilon
    return _objective(doc["objective"]), number(doc["epsilon"])


@dataclass(frozen=True)
class PolicyBody:
    """The fields of a policy certificate after the header: J(π₀) ≥ J* − ε."""

    objective: Objective
    epsilon: Fraction
    values: PolicyValues
    witness: PolicyWitness
    diagnosis: tuple[DiagnosisRow, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The body's fields; the objective and ε are the statement's and written there only."""
        v = self.values
        values = {"j_policy": _enclosure_json(v.j_policy), "j_star": _enclosure_json(v.j_star),
                  "gap": _enclosure_json(v.gap), **({} if v.eta is None else {"eta": v.eta.to_json()})}
        return {"values": values,
                "witness": self.witness.to_json(), "diagnosis": [d.to_json() for d in self.diagnosis]}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], statement: Statement | None = None) -> PolicyBody:
        """The body of ``doc``, with the objective and ε of ``statement`` (or, for the fields an
        engine returns on their own, of ``doc``'s ``objective`` and ``epsilon``)."""
        values = doc["values"]
        objective, epsilon = _stated(doc, statement)
        return cls(objective, epsilon,
                   PolicyValues(_enclosure(values["j_policy"]), _enclosure(values["j_star"]), _enclosure(values["gap"]),
                                None if "eta" not in values else Eta.from_json(values["eta"])),
                   _policy_witness(doc["witness"]), tuple(DiagnosisRow(**row) for row in doc["diagnosis"]))


# -- alignment certificates ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExactComponent:
    """One policy of an exact mixture: drawn with probability ``weight``, it follows ``steps`` (the
    per-step table of its ``before_decided`` `proofs.policy/1` document, frozen JSON: state → an
    action, or action → probability text) until the constraint is decided, then acts J-optimally.
    ``values`` are its optional value vectors ``j`` and ``w``."""

    weight: Fraction
    steps: tuple[Mapping[str, JsonValue], ...]
    after_decided: str = "J-optimal"
    values: tuple[tuple[Fraction, ...], tuple[Fraction, ...]] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"weight": text_of(self.weight), "after_decided": self.after_decided,
                               "before_decided": {"format": "proofs.policy/1", "steps": thaw(self.steps)}}
        if self.values is not None:
            out["values"] = {"j": _texts(self.values[0]), "w": _texts(self.values[1])}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExactComponent:
        values = data.get("values")
        steps = tuple(MappingProxyType({s: freeze(a) for s, a in step.items()})
                      for step in data["before_decided"]["steps"])
        return cls(number(data["weight"]), steps, data["after_decided"],
                   None if values is None else (_numbers(values["j"]), _numbers(values["w"])))


@dataclass(frozen=True)
class FloatComponent:
    """One policy of a float mixture: its step tables are the sidecar array ``step_tables``
    (``encoding`` "plain", "delta" or "changes"; not written: plain)."""

    weight: Fraction
    step_tables: str
    after_decided: str = "J-optimal"
    encoding: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"weight": text_of(self.weight), "step_tables": self.step_tables,
                               "after_decided": self.after_decided}
        if self.encoding is not None:
            out["encoding"] = self.encoding
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FloatComponent:
        return cls(number(data["weight"]), data["step_tables"], data["after_decided"], data.get("encoding"))


Component: TypeAlias = ExactComponent | FloatComponent


@dataclass(frozen=True)
class Mixture:
    """A start mixture of policies (``{"mixture": [...]}``): all exact or all float components."""

    components: tuple[Component, ...]

    @property
    def is_float(self) -> bool:
        return any(isinstance(c, FloatComponent) for c in self.components)

    def to_json(self) -> dict[str, Any]:
        return {"mixture": [c.to_json() for c in self.components]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Mixture:
        parts = data["mixture"]
        if any("step_tables" in part for part in parts):
            return cls(tuple(FloatComponent.from_json(part) for part in parts))
        return cls(tuple(ExactComponent.from_json(part) for part in parts))


@dataclass(frozen=True)
class AlignmentRow:
    """One constraint of Φ in ``values.constraints``: the worst near-optimal value and the verdict."""

    constraint: str
    threshold: Fraction
    worst: Enclosure
    holds: bool | None
    lam: Fraction        # ``lambda``

    def to_json(self) -> dict[str, Any]:
        return {"constraint": self.constraint, "threshold": text_of(self.threshold),
                "worst": _enclosure_json(self.worst), "holds": self.holds, "lambda": text_of(self.lam)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlignmentRow:
        return cls(data["constraint"], number(data["threshold"]), _enclosure(data["worst"]), data["holds"],
                   number(data["lambda"]))


@dataclass(frozen=True)
class AlignmentValues:
    """``values`` of an alignment certificate; ``margin`` ε* when asked (``"inf"``: no policy violates Φ)."""

    j_star: Enclosure
    constraints: tuple[AlignmentRow, ...]
    margin: Enclosure | Literal["inf"] | None = None
    eta: Eta | None = None   # the model–reality margin of a proved lemma (η_lo only)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"j_star": _enclosure_json(self.j_star),
                               "constraints": [row.to_json() for row in self.constraints]}
        if self.margin is not None:
            out["margin"] = "inf" if isinstance(self.margin, str) else _enclosure_json(self.margin)
        if self.eta is not None:
            out["eta"] = self.eta.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlignmentValues:
        margin = data.get("margin")
        return cls(_enclosure(data["j_star"]), tuple(AlignmentRow.from_json(r) for r in data["constraints"]),
                   None if margin is None else "inf" if isinstance(margin, str) else _enclosure(margin),
                   None if "eta" not in data else Eta.from_json(data["eta"]))


@dataclass(frozen=True)
class ExactConstraintWitness:
    """One constraint's exact witness: the multiplier λ, the attained mixture, optional values."""

    lam: Fraction
    attained: Mixture
    values: tuple[Fraction, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lambda": text_of(self.lam), "attained": self.attained.to_json()}
        if self.values is not None:
            out["values"] = _texts(self.values)
        return out


@dataclass(frozen=True)
class ExactAlignmentWitness:
    """The exact witness: one entry per constraint of Φ, and optionally J*'s value vector."""

    constraints: tuple[ExactConstraintWitness, ...]
    j_values: tuple[Fraction, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"constraints": [c.to_json() for c in self.constraints]}
        if self.j_values is not None:
            out["j_values"] = _texts(self.j_values)
        return out


@dataclass(frozen=True)
class FloatConstraintWitness:
    """One constraint's float witness: λ and the attained mixture of step-table components."""

    lam: Fraction
    attained: Mixture

    def to_json(self) -> dict[str, Any]:
        return {"lambda": text_of(self.lam), "attained": self.attained.to_json()}


@dataclass(frozen=True)
class FloatAlignmentWitness:
    """The float witness (``arithmetic: "float"``): the model's state count, one entry per constraint,
    the sidecar ``file`` of step tables, and the ``tail`` K (`proofs.kernel.check_alignment_float`)."""

    states: int
    constraints: tuple[FloatConstraintWitness, ...]
    file: SidecarFile | None = None
    tail: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"arithmetic": "float", "states": self.states,
                               "constraints": [c.to_json() for c in self.constraints]}
        optional = {"file": None if self.file is None else self.file.to_json(), "tail": self.tail}
        return out | {key: value for key, value in optional.items() if value is not None}


AlignmentWitness: TypeAlias = ExactAlignmentWitness | FloatAlignmentWitness | None
"""None: the empty witness ``{}`` of an unknown verdict, which claims nothing."""


def _alignment_witness(data: Mapping[str, Any]) -> AlignmentWitness:
    if "arithmetic" in data:
        return FloatAlignmentWitness(data["states"], tuple(
            FloatConstraintWitness(number(c["lambda"]), Mixture.from_json(c["attained"])) for c in data["constraints"]),
            SidecarFile.read(data.get("file")), data.get("tail"))
    if not data:
        return None
    j_values = data.get("j_values")
    return ExactAlignmentWitness(tuple(
        ExactConstraintWitness(number(c["lambda"]), Mixture.from_json(c["attained"]),
                               None if c.get("values") is None else _numbers(c["values"]))
        for c in data["constraints"]), None if j_values is None else _numbers(j_values))


@dataclass(frozen=True)
class Counterexample:
    """A refuted alignment lemma's reward hack: a near-optimal mixture violating constraint
    number ``constraint`` of Φ."""

    constraint: int
    mixture: Mixture

    def to_json(self) -> dict[str, Any]:
        return {"constraint": self.constraint, **self.mixture.to_json()}


@dataclass(frozen=True)
class AlignmentBody:
    """The fields of an alignment certificate after the header: every near-optimal policy satisfies Φ."""

    objective: Objective
    epsilon: Fraction
    values: AlignmentValues
    witness: AlignmentWitness
    counterexample: Counterexample | None = None    # exactly when refuted
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"values": self.values.to_json(),
                               "witness": {} if self.witness is None else self.witness.to_json()}
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample.to_json()
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], statement: Statement | None = None) -> AlignmentBody:
        """As `PolicyBody.from_json`."""
        cex = doc.get("counterexample")
        objective, epsilon = _stated(doc, statement)
        return cls(objective, epsilon, AlignmentValues.from_json(doc["values"]),
                   _alignment_witness(doc["witness"]),
                   None if cex is None else Counterexample(cex["constraint"], Mixture.from_json(cex)),
                   doc.get("reason"))


# -- compositions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectRow:
    """One constraint of Φ evaluated directly under the policy premise's π₀."""

    constraint: str
    threshold: Fraction
    value: Enclosure
    holds: bool | None

    def to_json(self) -> dict[str, Any]:
        return {"constraint": self.constraint, "threshold": text_of(self.threshold),
                "value": _enclosure_json(self.value), "holds": self.holds}


@dataclass(frozen=True)
class CompositionValues:
    """``values`` of a composition: the premises' ids, the direct evaluation of Φ, its margin."""

    premises: tuple[str, ...]
    direct: tuple[DirectRow, ...]
    eta: Eta | None = None


@dataclass(frozen=True)
class CompositionBody:
    """The fields of a composition (``certificate``) after the header; the premises' hashes are
    ``Certificate.inputs.premises``."""

    values: CompositionValues
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"values": {"premises": list(self.values.premises),
                                          "direct": [row.to_json() for row in self.values.direct]}}
        if self.values.eta is not None:
            out["values"]["eta"] = self.values.eta.to_json()
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CompositionBody:
        values = doc["values"]
        return cls(CompositionValues(tuple(values["premises"]), tuple(
            DirectRow(r["constraint"], number(r["threshold"]), _enclosure(r["value"]), r["holds"])
            for r in values["direct"]), None if "eta" not in values else Eta.from_json(values["eta"])), doc.get("reason"))


Body: TypeAlias = PolicyBody | AlignmentBody | CompositionBody


# -- the certificate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """A whole certificate. ``body`` is a `PolicyBody`, `AlignmentBody` or `CompositionBody`
    (by ``lemma.kind``); the statement is the `Statement` the lemma claims."""

    format: str
    lemma: Lemma
    statement: Statement
    inputs: Inputs
    status: str          # "proved", "refuted" or "unknown"
    engine: Engine
    body: Body

    @property
    def kind(self) -> str:
        return self.lemma.kind

    @property
    def reason(self) -> str | None:
        """The engine's note, if any (policy certificates have none)."""
        return None if isinstance(self.body, PolicyBody) else self.body.reason

    def to_json(self) -> dict[str, Any]:
        """The document `proofs.core.certificate.dump` writes (the one writer of certificates)."""
        return {"format": self.format, "lemma": self.lemma.to_json(), "statement": self.statement.to_json(),
                "inputs": self.inputs.to_json(), "status": self.status, "engine": self.engine.to_json(),
                **self.body.to_json()}

    @classmethod
    def from_json(cls, doc: object) -> Certificate:
        """Read a certificate document strictly (the one parser of certificates).

        Raises
        ------
        FieldError
            The document does not have the shape its kind and status write (`schema.validate`).
        StatementError
            Its ``statement`` is not one `Statement.to_json` writes.
        """
        if not isinstance(doc, dict):
            raise FieldError("", f"expected a JSON object, got {describe(doc)}")
        kind, status = validate(doc)
        statement = Statement.from_json(doc["statement"])
        lemma = doc["lemma"]
        body: Body
        if kind == "policy":
            body = PolicyBody.from_json(doc, statement)
        elif kind == "alignment":
            body = AlignmentBody.from_json(doc, statement)
        else:
            body = CompositionBody.from_json(doc)
        return cls(doc["format"], Lemma(lemma["id"], lemma["kind"], lemma.get("obligation")), statement,
                   Inputs.from_json(doc["inputs"]), status, Engine(doc["engine"]["name"], doc["engine"]["version"]),
                   body)
