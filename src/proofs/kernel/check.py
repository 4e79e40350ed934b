"""The kernel's judgement of certificate files against canonical models: `Kernel.check_file`.

TRUSTED. The kernel reads three things and nothing else: certificate files (JSON, read strictly by
`proofs.core.schema`), their witness and policy-table sidecars (bound by SHA-256), and canonical
world models (`proofs.core.model`, bound by SHA-256: ``MODELS/SHA.model``). It never reads an
obligation, a model's source file or a policy file, never runs user code and never needs Storm.
What a certificate claims is its `Statement`; which source files and obligation it came from is
checked outside the kernel, by the translation step of `proofs check`.

For each certificate:
- ``policy``: the policy table (inline, or a sidecar whose SHA-256 is ``table_sha256``), then
  `proofs.kernel.check_policy` (value-function witnesses, one pass);
- ``alignment``: `proofs.kernel.check_alignment` (exact) or `check_alignment_float` (Lagrange
  multipliers, attained mixtures, counterexamples);
- ``certificate``: each premise file (bound by its SHA-256) checked in turn, then
  `proofs.kernel.rules.check_composition`, and Φ evaluated directly under π₀
  (`proofs.kernel.direct`);
- a certificate whose status is ``unknown`` claims nothing; only its shape and bindings are checked.
Every rejection is a `CheckFailure` naming the file, the step and the failed inequality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from proofs.core.certificate import read_arrays, read_certificate, sha256_bytes
from proofs.core.certificates import (
    AlignmentBody,
    Certificate,
    CompositionBody,
    Eta,
    FloatAlignmentWitness,
    FloatComponent,
    FloatValueVectors,
    PolicyBody,
    thaw,
)
from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.formula import Constraint, RewardConstraint, atoms_of, labels_of
from proofs.core.model import Mdp, ModelFileError, decode, model_sha256
from proofs.core.objective import Objective
from proofs.core.policy import Policy, TableError, decode_table, policy_from_document, table_bytes
from proofs.core.schema import FieldError, short, span
from proofs.core.statement import Statement, StatementError

__all__ = ["Kernel", "UnreadableCertificate", "witness_arrays"]


class UnreadableCertificate(CheckFailure):
    """A file the kernel needs cannot be read at all (permissions, a loop of symbolic links): not a
    verdict on the certificate, an input error (exit code 2)."""


def witness_arrays(path: Path, cert: Certificate | dict[str, Any]) -> dict[str, Any] | None:
    """The arrays of a certificate's witness sidecar, if it has one (its SHA-256 is checked); a
    document is read with `Certificate.from_json` first."""
    body = (cert if isinstance(cert, Certificate) else Certificate.from_json(cert)).body
    witness = None if isinstance(body, CompositionBody) else body.witness
    if not isinstance(witness, (FloatValueVectors, FloatAlignmentWitness)) or witness.file is None:
        return None
    file = witness.file
    expected = path.with_suffix(".npz").name
    if file.path != expected:
        raise FieldError("witness.file.path", f"the witness file of {path.name} is {expected!r}, "
                                              f"not {file.path[:60]!r}")
    return read_arrays(path.parent / expected, file.sha256)


def _array_names(body: PolicyBody | AlignmentBody) -> set[str]:
    """The sidecar arrays a certificate refers to."""
    if isinstance(body, PolicyBody):
        witness = body.witness
        return {witness.optimal.array, witness.policy.array} if isinstance(witness, FloatValueVectors) else set()
    mixtures = [c.attained for c in body.witness.constraints] if body.witness is not None else []
    if body.counterexample is not None:
        mixtures.append(body.counterexample.mixture)
    return {part.step_tables for m in mixtures for part in m.components if isinstance(part, FloatComponent)}


def policy_table_path(path: Path) -> Path:
    """The sidecar that holds a large policy table: ``LEMMA.table`` beside ``LEMMA.json``.

    Canonical JSON bytes, but not named ``*.json``: the certificate folder's ``*.json`` files are
    certificates, and ``LEMMA.policy.json`` is the certificate of a lemma named ``LEMMA.policy``."""
    return path.with_suffix(".table")


@dataclass
class Kernel:
    """Checks certificate files against the canonical models in ``models``; remembers what it accepted."""

    models: Path
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    parsed: dict[str, Certificate] = field(default_factory=dict)    # the accepted files, as read
    loaded: dict[str, Mdp] = field(default_factory=dict)

    def check_file(self, path: Path) -> dict[str, Any]:
        """Check one certificate file; return its document when accepted.

        Raises
        ------
        UnreadableCertificate
            A file it needs cannot be read (not a verdict).
        CheckFailure
            Any rejection, naming the file and the field or step. No other exception escapes.
        """
        key = str(path.resolve())
        if key in self.accepted:
            return self.accepted[key]
        try:
            doc = read_certificate(path)
            cert = self._check(path, doc)
        except FieldError as exc:
            raise CheckFailure(f"{path}:{exc}" if exc.field else f"{path}: {exc}") from None
        except CheckFailure as exc:
            kind = type(exc) if isinstance(exc, UnreadableCertificate) else CheckFailure
            message = str(exc)
            raise kind(message if message.startswith(str(path)) else f"{path}: {message}") from None
        except OSError as exc:
            raise UnreadableCertificate(f"{path}: cannot read {exc.filename or 'a file'} "
                                        f"({exc.strerror or type(exc).__name__})") from None
        except Exception as exc:  # noqa: BLE001 (never a traceback: a kernel bug still rejects, and says so)
            raise CheckFailure(f"{path}: internal error of the kernel ({type(exc).__name__}: {str(exc)[:200]}); "
                               "the certificate is rejected. Please report this") from None
        self.accepted[key], self.parsed[key] = doc, cert
        return doc

    # -- the three kinds -----------------------------------------------------------------------
    def _check(self, path: Path, doc: dict[str, Any]) -> Certificate:
        try:
            cert = Certificate.from_json(doc)
        except StatementError as exc:
            raise CheckFailure(f"statement step: {exc}") from None
        kind, statement = cert.kind, cert.statement
        if statement.kind != kind:
            raise CheckFailure(f"statement step: the certificate is a {kind} certificate, its statement a "
                               f"{statement.kind} statement")
        if path.name != f"{cert.lemma.id}.json":
            raise CheckFailure(f"binding step: the file is named {path.name!r} but certifies lemma "
                               f"{cert.lemma.id!r} (a certificate swapped between lemmas)")
        if kind == "certificate":
            self._composition(path, cert)
            return cert
        assert isinstance(cert.body, (PolicyBody, AlignmentBody))
        assert statement.objective is not None and statement.epsilon is not None   # stored once, there
        mdp = self.model(cert)
        _names(mdp, statement)
        arrays = witness_arrays(path, cert)
        if arrays is not None and set(arrays) != _array_names(cert.body):
            raise CheckFailure(f"witness step: the witness file holds the arrays {sorted(arrays)[:8]}, the "
                               f"certificate refers to {sorted(_array_names(cert.body))[:8]}")
        if kind == "policy":
            from proofs.kernel.check_policy import check_policy_certificate

            assert isinstance(cert.body, PolicyBody)
            policy = self.policy(path, cert, mdp)
            check_policy_certificate(cert.body, cert.status, mdp, statement.objective, policy, statement.epsilon,
                                     arrays)
            return cert
        assert isinstance(cert.body, AlignmentBody)
        body = cert.body
        if body.witness is None and body.values.constraints:
            raise CheckFailure("witness step: an unknown certificate without a witness reports no constraint values")
        if isinstance(body.witness, FloatAlignmentWitness):
            from proofs.kernel.check_alignment_float import check_float_alignment

            check_float_alignment(body, cert.status, mdp, statement.objective, statement.epsilon, statement.phi, arrays)
            return cert
        from proofs.kernel.check_alignment import check_alignment_certificate

        check_alignment_certificate(body, cert.status, mdp, statement.objective, statement.epsilon, statement.phi)
        return cert

    def _composition(self, path: Path, cert: Certificate) -> None:
        from proofs.kernel.check_policy import check_defined
        from proofs.kernel.rules import check_composition

        body, statement, recorded = cert.body, cert.statement, cert.inputs.premises
        assert isinstance(body, CompositionBody) and recorded is not None
        if list(body.values.premises) != list(statement.premises):
            raise CheckFailure(f"binding step: values.premises must list the premises {list(statement.premises)}")
        if set(recorded) != set(statement.premises):
            raise CheckFailure(f"binding step: inputs.premises must name exactly the premises "
                               f"{list(statement.premises)}")
        premises: dict[str, Certificate] = {}
        for pid in statement.premises:
            where = path.with_name(f"{pid}.json")
            if not where.is_file():
                if recorded[pid] == "missing" and cert.status == "unknown":
                    continue
                raise CheckFailure(f"input step: the premise certificate {where.name} is missing")
            if recorded[pid] != sha256_bytes(where.read_bytes()):
                raise CheckFailure(f"input step: the premise certificate {where.name} changed since the composition")
            if cert.status != "unknown":
                self.check_file(where)   # accepted: its certificate is parsed[...]
                premise = self.parsed[str(where.resolve())]
                premises[premise.statement.kind] = premise
        if cert.status == "unknown":
            return
        if set(premises) != {"alignment", "policy"}:
            raise CheckFailure("composition step: needs one alignment and one policy premise")
        alignment, premise = premises["alignment"], premises["policy"]
        if cert.status == "proved":
            check_composition(cert.lemma.id, alignment, premise)
        assert alignment.inputs.worldmodel is not None and premise.inputs.worldmodel is not None
        if alignment.inputs.worldmodel.canonical != premise.inputs.worldmodel.canonical:
            raise CheckFailure("composition step: the premises are about different canonical world models")
        objective = premise.statement.objective
        assert objective is not None
        mdp = self.model(premise)
        policy = self.policy(path.with_name(f"{premise.lemma.id}.json"), premise, mdp)
        check_defined(mdp, policy, objective.horizon)
        self._direct(cert.status, body, mdp, objective, alignment.statement.phi, policy)

    @staticmethod
    def _direct(status: str, body: CompositionBody, mdp: Mdp, objective: Objective, phi: tuple[Constraint, ...],
                policy: Policy) -> None:
        """Φ under π₀: each row's value must meet the kernel's own enclosure and not contradict its
        decision; a refuted composition needs a certain violation, a proved one must have none."""
        from proofs.kernel.direct import evaluate_constraint

        rows = body.values.direct
        if len(rows) != len(phi):
            raise CheckFailure(f"direct evaluation step: values.direct has {len(rows)} rows, Φ has "
                               f"{len(phi)} constraints")
        violated, values = False, []
        for i, (c, row) in enumerate(zip(phi, rows)):
            where = f"direct evaluation step: values.direct[{i}]"
            if row.constraint != str(c) or row.threshold != c.threshold:
                raise CheckFailure(f"{where} is about {row.constraint[:80]!r}, Φ's constraint {i} is {str(c)!r}")
            value = evaluate_constraint(mdp, objective, policy, c)
            values.append(value)
            claimed = row.value
            if claimed.hi < value.lo or value.hi < claimed.lo or claimed.width > max(2 * value.width, Fraction(1, 10**6)):
                raise CheckFailure(f"{where}: the reported value {span(claimed)} is not the kernel's {span(value)} "
                                   "(outside it, or much wider)")
            decided = c.comparison.decide(value.lo, value.hi, c.threshold)
            if decided is not None and row.holds is not decided:
                raise CheckFailure(f"{where}: holds is {row.holds}, but the kernel's value {span(value)} "
                                   f"gives {decided}")
            violated = violated or decided is False
        if status == "proved" and violated:
            raise CheckFailure("direct evaluation step: the policy violates Φ, so the proved verdict does not follow")
        if body.values.eta is not None:
            Kernel._safety_margin(body.values.eta, mdp, objective, phi, policy, values)
        if status == "refuted" and not violated:
            raise CheckFailure("direct evaluation step: no constraint of Φ is certainly violated by the policy, "
                               "so the refuted verdict does not follow")

    @staticmethod
    def _safety_margin(eta: Eta, mdp: Mdp, objective: Objective, phi: tuple[Constraint, ...], policy: Policy,
                       values: list[Enclosure] | None = None) -> None:
        """The model–reality margin of a safety certificate (finite horizon, point model): within
        total variation η_lo of the model at every step, nature against Φ (mass to any state) leaves
        every constraint satisfied under π₀; the environment given for η_hi violates one of them.
        η_lo passes in closed form when the kernel's own ``values`` moved by η_lo·c_W toward the
        thresholds still satisfy them (`proofs.kernel.check_alignment.drifts`), else exactly
        (`proofs.kernel.direct.ball_value`)."""
        from proofs.kernel.check_alignment import drifts
        from proofs.kernel.check_policy import environment_rows
        from proofs.kernel.direct import ball_value

        if not 0 <= eta.lo <= 1 or (eta.hi is None) != (eta.environment is None) or \
                (objective.horizon is None and eta.hi is not None):
            raise CheckFailure("margin: 0 ≤ eta_lo ≤ 1, eta_hi comes with its environment and a finite horizon")
        moves = None if values is None or mdp.is_credal else drifts(mdp, objective, phi)[1]
        for i, c in enumerate(phi):
            if values is not None and moves is not None and c.comparison.holds(
                    values[i].hi + moves[i] * eta.lo if c.comparison.is_upper
                    else values[i].lo - moves[i] * eta.lo, c.threshold):
                continue
            if objective.horizon is None:
                raise CheckFailure(f"margin: with the geometric horizon, eta_lo = {short(eta.lo)} is checked in closed "
                                   f"form only, where {c} does not keep it")
            value = ball_value(mdp, objective, policy, c, eta.lo)
            if not c.comparison.holds(value, c.threshold):
                raise CheckFailure(f"margin: within eta_lo = {short(eta.lo)} of the model, {c} reaches {short(value)}")
        if eta.hi is not None and objective.horizon is not None:   # (a geometric horizon has none: above)
            rows = environment_rows(eta, mdp, objective.horizon)
            if all(c.comparison.holds(ball_value(mdp, objective, policy, c, Fraction(0), rows), c.threshold)
                   for c in phi):
                raise CheckFailure(f"margin: the environment given for eta_hi = {short(eta.hi)} violates no "
                                   "constraint of Φ")

    # -- inputs, each bound by its SHA-256 -----------------------------------------------------
    def model(self, cert: Certificate | dict[str, Any]) -> Mdp:
        """The canonical model the certificate names, read from ``models`` and its hash checked (a
        document, not yet read: the ``inputs.worldmodel.canonical`` the translation step checked)."""
        if isinstance(cert, Certificate):
            assert cert.inputs.worldmodel is not None
            sha = cert.inputs.worldmodel.canonical
        else:
            sha = cert["inputs"]["worldmodel"]["canonical"]
        if sha not in self.loaded:
            where = self.models / f"{sha}.model"
            if not where.is_file():
                raise CheckFailure(f"input step: the canonical model {sha[:16]}… is not in {self.models} (run "
                                   "`proofs check` or `proofs prove` in the project to translate its models)")
            data = where.read_bytes()
            if model_sha256(data) != sha:
                raise CheckFailure(f"input step: {where.name}: its SHA-256 is not the name it is filed under")
            try:
                self.loaded[sha] = decode(data)
            except ModelFileError as exc:
                raise CheckFailure(f"input step: {where.name}: {exc}") from None
        return self.loaded[sha]

    @staticmethod
    def policy(path: Path, cert: Certificate, mdp: Mdp) -> Policy:
        """The policy table the certificate binds: inline, or in ``LEMMA.table``."""
        entry = cert.inputs.policy
        assert entry is not None
        if entry.file is not None:
            sidecar = policy_table_path(path)
            if entry.file != sidecar.name:
                raise CheckFailure(f"input step: the policy table of {path.name} is "
                                   f"{sidecar.name!r}, not {entry.file[:60]!r}")
            if not sidecar.is_file():
                raise CheckFailure(f"input step: the policy table {sidecar.name} is missing")
            data = sidecar.read_bytes()
            if sha256_bytes(data) != entry.table_sha256:
                raise CheckFailure(f"input step: the SHA-256 of the policy table {sidecar.name} is not the "
                                   "certificate's table_sha256")
            try:
                return decode_table(mdp, data)
            except TableError as exc:
                raise CheckFailure(f"input step: the policy table {sidecar.name} does not read over the model: "
                                   f"{str(exc)[:200]}") from None
        table = thaw(entry.table)
        if sha256_bytes(table_bytes(table)) != entry.table_sha256:
            raise CheckFailure("input step: the SHA-256 of the policy table is not the certificate's table_sha256")
        try:
            return policy_from_document(mdp, table)
        except (TableError, TypeError, AttributeError) as exc:
            raise CheckFailure(f"input step: the policy table does not read over the model: {str(exc)[:200]}") from None


def _names(mdp: Mdp, statement: Statement) -> None:
    """Every name the statement uses is the model's (a reward structure, a label, an atom's label)."""
    assert statement.objective is not None
    rewards = {statement.objective.reward} | {c.reward for c in statement.phi if isinstance(c, RewardConstraint)}
    for name in sorted(rewards - set(mdp.rewards)):
        raise CheckFailure(f"statement step: the model has no reward structure {name!r}")
    wanted = set().union(*(labels_of(c) for c in statement.phi)) if statement.phi else set()
    wanted |= {str(a) for c in statement.phi for a in atoms_of(c)}
    for name in sorted(wanted - set(mdp.labels)):
        raise CheckFailure(f"statement step: the model has no label {name!r}")

