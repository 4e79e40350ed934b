"""`proofs check`: re-verify certificate files with the trusted kernel only.

TRUSTED. For each certificate the kernel re-reads the obligation, the world model and the
policy itself (never an engine's objects), matches their hashes and the lemma's statement,
then runs the checker of the certificate's kind:
- ``policy``: `proofs.kernel.check_policy` (value-function witnesses, one pass);
- ``alignment``: `proofs.kernel.check_alignment` (Lagrange multipliers and counterexamples);
- ``certificate``: both premises re-checked, then `proofs.kernel.rules.check_composition`;
- a certificate whose status is ``unknown`` claims nothing; only its bindings are checked.
Every rejection is a `CheckFailure` naming the file, the step and the failed inequality.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofs.core.certificate import model_sha256, read_arrays, read_certificate, relative, sha256_bytes
from proofs.core.errors import CheckFailure, InputError, ProofsError, file_error
from proofs.core.rational import format_rational
from proofs.core.schema import FieldError, header, validate
from proofs.kernel.statement import objective_data, statement_of
from proofs.spec.obligation import (
    AlignmentLemma,
    CertificateLemma,
    Lemma,
    ObligationFile,
    PolicyLemma,
    read_obligation_file,
)

__all__ = ["Checker", "StaleCertificate", "UnreadableInput", "certificate_path", "premise_hashes", "witness_arrays"]


class StaleCertificate(CheckFailure):
    """The certificate was made for other inputs: the model's bytes, the lemma's statement, the
    policy's behaviour or a premise changed since (or no longer reads). Re-proving renews it."""


def certificate_path(root: Path, certificates: Path, lemma_id: str) -> Path:
    return root / certificates / f"{lemma_id}.json"


def premise_hashes(root: Path, certificates: Path, premises: tuple[str, ...]) -> dict[str, str]:
    """SHA-256 of each premise's certificate file ("missing" when there is none)."""
    out = {}
    for pid in premises:
        path = certificate_path(root, certificates, pid)
        out[pid] = sha256_bytes(path.read_bytes()) if path.is_file() else "missing"
    return out


def witness_arrays(path: Path, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The arrays of a certificate's witness sidecar, if it has one (its SHA-256 is checked)."""
    witness = doc.get("witness")
    witness_file = witness.get("file") if isinstance(witness, dict) else None
    if not witness_file:
        return None
    if not isinstance(witness_file, dict) or not isinstance(witness_file.get("path"), str) \
            or not isinstance(witness_file.get("sha256"), str):
        raise FieldError("witness.file", "expected {\"path\": ..., \"sha256\": ...}")
    expected = path.with_suffix(".npz").name
    if witness_file["path"] != expected:
        raise FieldError("witness.file.path", f"the witness file of {path.name} is {expected!r}, "
                                              f"not {witness_file['path'][:60]!r}")
    return read_arrays(path.parent / expected, witness_file["sha256"])


def _array_names(doc: dict[str, Any]) -> set[str]:
    """The sidecar arrays a (shape-checked) certificate refers to."""
    witness = doc["witness"]
    if "optimal" in witness:
        return {witness[k]["array"] for k in ("optimal", "policy") if "array" in witness[k]}
    mixtures = [c["attained"] for c in witness.get("constraints", [])]
    if "counterexample" in doc:
        mixtures.append(doc["counterexample"])
    return {part["step_tables"] for m in mixtures for part in m["mixture"] if "step_tables" in part}


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON, types included (``6`` is not ``6.0`` nor ``true``)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


class UnreadableInput(CheckFailure):
    """An input of the certificate (model, policy, obligation, certificate) cannot be read at all
    (permissions, a loop of symbolic links): the certificate is not judged, and the run is an
    input error (exit code 2), not a rejection."""


@dataclass
class Checker:
    """Checks certificates under one project root; remembers what it has accepted."""

    root: Path
    certificates: Path = Path("certificates")
    allow_code: bool = False
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[tuple[Path, str], Any] = field(default_factory=dict)  # (path, SHA-256) -> Mdp, read once

    def check_file(self, path: Path) -> dict[str, Any]:
        """Check one certificate file; return its document when accepted.

        Raises
        ------
        StaleCertificate
            The certificate was made for inputs that have changed since.
        CheckFailure
            Any other rejection (a malformed, edited or wrong certificate), naming the file and the
            field or step. No other exception escapes, whatever the file holds.
        """
        key = str(path.resolve())
        if key in self.accepted:
            return self.accepted[key]
        prefix = relative(path, self.root)
        try:
            doc = read_certificate(path)
            self._check(path, doc)
        except FieldError as exc:
            raise CheckFailure(f"{prefix}:{exc}" if exc.field else f"{prefix}: {exc}") from None
        except CheckFailure as exc:
            message = str(exc).replace(str(path), prefix, 1)
            kind = StaleCertificate if isinstance(exc, StaleCertificate) else CheckFailure
            raise kind(message if message.startswith(prefix) else f"{prefix}: {message}") from None
        except InputError as exc:
            if isinstance(exc.__cause__ or exc.__context__, OSError) or "cannot read" in exc.problem:
                raise UnreadableInput(f"{prefix}: {exc}") from None
            raise StaleCertificate(f"{prefix}: an input no longer reads: {exc}") from None
        except ProofsError as exc:
            raise StaleCertificate(f"{prefix}: an input no longer reads: {exc}") from None
        except OSError as exc:  # an input the checker may not read: bad input (exit 2), not a verdict
            raise UnreadableInput(f"{prefix}: {file_error(exc)}") from None
        except Exception as exc:  # noqa: BLE001 (never a traceback: a checker bug still rejects, and says so)
            raise CheckFailure(f"{prefix}: internal error of the checker ({type(exc).__name__}: {str(exc)[:200]}); "
                               "the certificate is rejected. Please report this") from None
        self.accepted[key] = doc
        return doc

    def _check(self, path: Path, doc: dict[str, Any]) -> None:
        kind, _ = header(doc)
        lemma, obligation = self._lemma(doc)
        if kind != lemma.kind:
            raise StaleCertificate(f"binding step: the certificate is for a {kind} lemma, {lemma.id!r} is now a "
                                   f"{lemma.kind} lemma")
        validate(doc)
        self._bind(path, doc, lemma, obligation)
        if isinstance(lemma, CertificateLemma):
            self._check_composition(doc, lemma)
            return
        mdp = self._model(doc, obligation)
        arrays = witness_arrays(path, doc)
        if arrays is not None and set(arrays) != _array_names(doc):
            raise CheckFailure(f"witness step: the witness file holds the arrays {sorted(arrays)[:8]}, the "
                               f"certificate refers to {sorted(_array_names(doc))[:8]}")
        if isinstance(lemma, PolicyLemma):
            self._check_policy(doc, lemma, obligation, mdp, arrays)
            return
        assert isinstance(lemma, AlignmentLemma) and obligation.objective is not None
        if doc["witness"].get("arithmetic") == "float":
            from proofs.kernel.check_alignment_float import check_float_alignment

            check_float_alignment(doc, mdp, obligation.objective, lemma.epsilon, lemma.desirable, arrays)
            return
        from proofs.kernel.check_alignment import check_alignment_certificate

        check_alignment_certificate(doc, mdp, obligation.objective, lemma.epsilon, lemma.desirable)

    def inputs(self, doc: dict[str, Any]) -> tuple[Lemma, ObligationFile, Any]:
        """The lemma of an accepted certificate, its obligation (with the lemma's objective) and
        its world model as the kernel read it (None for a composition)."""
        lemma, obligation = self._lemma(doc)
        return lemma, obligation, None if isinstance(lemma, CertificateLemma) else self._model(doc, obligation)

    def _lemma(self, doc: dict[str, Any]) -> tuple[Lemma, ObligationFile]:
        lemma_id, where = doc["lemma"]["id"], doc["lemma"]["obligation"]
        target = (self.root / where).resolve()
        if not target.is_relative_to(self.root.resolve()) or target.suffix != ".toml":
            raise FieldError("lemma.obligation", f"{where[:80]!r} is not an obligation file of the project")
        obligation = read_obligation_file(self.root / where)
        for lemma in obligation.lemmas:
            if lemma.id == lemma_id:
                return lemma, obligation.for_lemma(lemma)  # with the objective the lemma chose
        raise StaleCertificate(f"binding step: lemma {lemma_id!r} is no longer in {where}")

    def _bind(self, path: Path, doc: dict[str, Any], lemma: Lemma, obligation: ObligationFile) -> None:
        """The fields that tie the certificate to its lemma must be the obligation's, exactly."""
        if path.name != f"{lemma.id}.json":
            raise CheckFailure(f"binding step: the file is named {path.name!r} but certifies lemma {lemma.id!r} "
                               "(a certificate swapped between lemmas)")
        if not _same(doc["statement"], statement_of(lemma, obligation.objective)):
            raise StaleCertificate("statement step: the certificate's statement differs from the obligation "
                                   f"{doc['lemma']['obligation']!r} (it changed since the proof)")
        if isinstance(lemma, CertificateLemma):
            if not _same(doc["values"]["premises"], list(lemma.premises)):
                raise CheckFailure(f"binding step: values.premises must list the premises {list(lemma.premises)}")
            if set(doc["inputs"]["premises"]) != set(lemma.premises):
                raise CheckFailure(f"binding step: inputs.premises must name exactly the premises "
                                   f"{list(lemma.premises)}")
            return
        assert obligation.objective is not None and obligation.worldmodel_path is not None
        if not _same(doc["objective"], objective_data(obligation.objective)):
            raise CheckFailure(f"binding step: objective {doc['objective']} is not the statement's "
                               f"{objective_data(obligation.objective)}")
        if doc["epsilon"] != format_rational(lemma.epsilon):
            raise CheckFailure(f"binding step: epsilon {doc['epsilon'][:40]!r} is not the statement's "
                               f"{format_rational(lemma.epsilon)!r}")
        model = relative(obligation.worldmodel_path, self.root)
        if doc["inputs"]["worldmodel"]["path"] != model:
            raise StaleCertificate(f"input step: the certificate names the world model "
                                   f"{doc['inputs']['worldmodel']['path'][:80]!r}, the obligation {model!r}")
        if isinstance(lemma, AlignmentLemma) and "margin" in doc["values"] and not lemma.margin:
            raise CheckFailure("binding step: values.margin is given, but the lemma does not ask for a margin")
        if isinstance(lemma, AlignmentLemma) and not doc["witness"] and doc["values"]["constraints"]:
            raise CheckFailure("witness step: an unknown certificate without a witness reports no constraint values")

    def _model(self, doc: dict[str, Any], obligation: ObligationFile) -> Any:
        from proofs.worldmodel.files import model_files
        from proofs.worldmodel.load import load_mdp

        assert obligation.worldmodel_path is not None
        recorded = doc["inputs"]["worldmodel"]["sha256"]
        actual = model_sha256(model_files(obligation.worldmodel_path), self.root, obligation.worldmodel_constants)
        if recorded != actual:
            raise StaleCertificate(f"input step: world model {relative(obligation.worldmodel_path, self.root)} "
                                   f"has SHA-256 {actual[:16]}…, the certificate was made for {recorded[:16]}…")
        key = (obligation.worldmodel_path, actual)
        if key not in self.models:
            self.models[key] = load_mdp(obligation.worldmodel_path,
                                        constants=dict(obligation.worldmodel_constants))
        return self.models[key]

    def _check_policy(self, doc: dict[str, Any], lemma: PolicyLemma, obligation: ObligationFile, mdp: Any,
                      arrays: dict[str, Any] | None) -> None:
        from proofs.kernel.check_policy import check_policy_certificate

        assert obligation.objective is not None
        policy = self._policy(doc, lemma, obligation, mdp)
        check_policy_certificate(doc, mdp, obligation.objective, policy, lemma.epsilon, arrays)

    def _policy(self, doc: dict[str, Any], lemma: PolicyLemma, obligation: ObligationFile, mdp: Any) -> Any:
        """The policy as the kernel re-reads it, after matching its behaviour's hash."""
        from proofs.policy.canonical import policy_hash
        from proofs.policy.load import load_policy

        assert obligation.objective is not None
        horizon = obligation.objective.horizon
        policy = load_policy(lemma.policy_path, mdp, allow_code=self.allow_code, horizon=horizon)
        actual = policy_hash(mdp, policy, horizon)
        recorded = doc["inputs"]["policy"]["table_sha256"]
        if recorded != actual:
            raise StaleCertificate(f"input step: the policy's behaviour changed: table SHA-256 {actual[:16]}…, "
                                   f"the certificate was made for {recorded[:16]}…")
        return policy

    def _check_composition(self, doc: dict[str, Any], lemma: CertificateLemma) -> None:
        from proofs.kernel.rules import check_composition

        recorded = doc["inputs"]["premises"]
        for pid, actual in premise_hashes(self.root, self.certificates, lemma.premises).items():
            where = relative(certificate_path(self.root, self.certificates, pid), self.root)
            if actual == "missing" and not (recorded.get(pid) == "missing" and doc["status"] == "unknown"):
                raise StaleCertificate(f"input step: the premise certificate {where} is missing")
            if recorded.get(pid) != actual:
                raise StaleCertificate(f"input step: the premise certificate {where} changed since the composition")
        if doc["status"] == "unknown":
            return
        premises = {}
        for pid in lemma.premises:
            premise = self.check_file(certificate_path(self.root, self.certificates, pid))
            premises[premise["statement"]["kind"]] = premise
        if set(premises) != {"alignment", "policy"}:
            raise CheckFailure("composition step: needs one alignment and one policy premise")
        if doc["status"] == "proved":
            check_composition(lemma.id, premises["alignment"], premises["policy"])
        self._check_direct(doc, premises["alignment"], premises["policy"])

    def _check_direct(self, doc: dict[str, Any], alignment: dict[str, Any], policy_doc: dict[str, Any]) -> None:
        """Φ evaluated directly under π₀: each reported row must contain the kernel's own value and
        say whether it holds; a refuted composition needs a certain violation.

        Uses the exact evaluation (or its sound float enclosure on large models) of
        `proofs.semantics.evaluate`, which re-runs the episode semantics under the fixed policy.
        """
        from proofs.core.schema import enclosure, rational, span
        from proofs.semantics.evaluate import evaluate_constraint

        a_lemma, _ = self._lemma(alignment)
        p_lemma, p_file = self._lemma(policy_doc)
        assert isinstance(a_lemma, AlignmentLemma) and isinstance(p_lemma, PolicyLemma)
        assert p_file.objective is not None
        mdp = self._model(policy_doc, p_file)
        policy = self._policy(policy_doc, p_lemma, p_file, mdp)
        rows = doc["values"]["direct"]
        if len(rows) != len(a_lemma.desirable):
            raise CheckFailure(f"direct evaluation step: values.direct has {len(rows)} rows, Φ has "
                               f"{len(a_lemma.desirable)} constraints")
        violated = False
        for i, (c, row) in enumerate(zip(a_lemma.desirable, rows)):
            where = f"direct evaluation step: values.direct[{i}]"
            if row["constraint"] != str(c) or rational(row["threshold"], f"{where}.threshold") != c.threshold:
                raise CheckFailure(f"{where} is about {row['constraint'][:80]!r}, Φ's constraint {i} is {str(c)!r}")
            value = evaluate_constraint(mdp, p_file.objective, policy, c)
            claimed = enclosure(row["value"], f"{where}.value")
            if not (claimed.lo <= value.lo and value.hi <= claimed.hi) or value.is_exact and claimed != value:
                raise CheckFailure(f"{where}: the reported value {span(claimed)} is not the kernel's {span(value)}")
            decided = c.comparison.decide(claimed.lo, claimed.hi, c.threshold)
            if row["holds"] is not decided:
                raise CheckFailure(f"{where}: holds is {row['holds']}, but the value {span(claimed)} gives {decided}")
            violated = violated or c.comparison.decide(value.lo, value.hi, c.threshold) is False
        if doc["status"] == "proved" and violated:
            raise CheckFailure("direct evaluation step: the policy violates Φ, so the proved verdict does not follow")
        if doc["status"] == "refuted" and not violated:
            raise CheckFailure("direct evaluation step: no constraint of Φ is certainly violated by the policy, "
                               "so the refuted verdict does not follow")
