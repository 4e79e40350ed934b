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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofs.errors import CheckFailure, ProofsError
from proofs.kernel.certificate import read_arrays, read_certificate, relative, sha256_bytes, sha256_files
from proofs.kernel.statement import statement_of
from proofs.spec.obligation import (
    AlignmentLemma,
    CertificateLemma,
    Lemma,
    ObligationFile,
    PolicyLemma,
    read_obligation_file,
)

__all__ = ["Checker", "certificate_path", "premise_hashes", "witness_arrays"]


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
    witness_file = (doc.get("witness") or {}).get("file")
    if not witness_file:
        return None
    return read_arrays(path.parent / witness_file["path"], witness_file["sha256"])


@dataclass
class Checker:
    """Checks certificates under one project root; remembers what it has accepted."""

    root: Path
    certificates: Path = Path("certificates")
    allow_code: bool = False
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[tuple[Path, str], Any] = field(default_factory=dict)  # (path, SHA-256) -> Mdp, read once

    def check_file(self, path: Path) -> dict[str, Any]:
        """Check one certificate file; return its document when accepted."""
        key = str(path.resolve())
        if key in self.accepted:
            return self.accepted[key]
        doc = read_certificate(path)
        try:
            self._check(path, doc)
        except CheckFailure as exc:
            message = str(exc)
            prefix = relative(path, self.root)
            raise CheckFailure(message if message.startswith(prefix) else f"{prefix}: {message}") from None
        except ProofsError as exc:
            raise CheckFailure(f"{relative(path, self.root)}: an input no longer reads: {exc}") from None
        self.accepted[key] = doc
        return doc

    def _check(self, path: Path, doc: dict[str, Any]) -> None:
        lemma, obligation = self._lemma(doc)
        if path.name != f"{lemma.id}.json":
            raise CheckFailure(f"binding step: the file is named {path.name!r} but certifies lemma {lemma.id!r} "
                               "(a certificate swapped between lemmas)")
        if doc.get("statement") != statement_of(lemma, obligation.objective):
            raise CheckFailure("statement step: the certificate's statement differs from the obligation "
                               f"{doc['lemma'].get('obligation')!r} (it changed since the proof)")
        if doc.get("status") not in ("proved", "refuted", "unknown"):
            raise CheckFailure(f"verdict step: unknown status {doc.get('status')!r}")
        if isinstance(lemma, CertificateLemma):
            self._check_composition(doc, lemma)
            return
        mdp = self._model(doc, obligation)
        if isinstance(lemma, PolicyLemma):
            self._check_policy(path, doc, lemma, obligation, mdp)
            return
        assert isinstance(lemma, AlignmentLemma) and obligation.objective is not None
        if doc["status"] == "unknown":
            return
        if (doc.get("witness") or {}).get("arithmetic") == "float":
            from proofs.kernel.check_alignment_float import check_float_alignment

            check_float_alignment(doc, mdp, obligation.objective, lemma.epsilon, lemma.desirable,
                                  witness_arrays(path, doc))
            return
        from proofs.kernel.check_alignment import check_alignment_certificate

        check_alignment_certificate(doc, mdp, obligation.objective, lemma.epsilon, lemma.desirable)

    def _lemma(self, doc: dict[str, Any]) -> tuple[Lemma, ObligationFile]:
        try:
            lemma_id, where = doc["lemma"]["id"], doc["lemma"]["obligation"]
        except (KeyError, TypeError):
            raise CheckFailure("binding step: the certificate does not name its lemma and obligation") from None
        obligation = read_obligation_file(self.root / where)
        for lemma in obligation.lemmas:
            if lemma.id == lemma_id:
                return lemma, obligation.for_lemma(lemma)  # with the objective the lemma chose
        raise CheckFailure(f"binding step: lemma {lemma_id!r} is no longer in {where}")

    def _model(self, doc: dict[str, Any], obligation: ObligationFile) -> Any:
        from proofs.worldmodel.files import model_files
        from proofs.worldmodel.load import load_mdp

        assert obligation.worldmodel_path is not None
        recorded = doc.get("inputs", {}).get("worldmodel", {})
        actual = sha256_files(model_files(obligation.worldmodel_path), self.root)
        if recorded.get("sha256") != actual:
            raise CheckFailure(f"input step: world model {relative(obligation.worldmodel_path, self.root)} "
                               f"has SHA-256 {actual[:16]}…, the certificate was made for "
                               f"{str(recorded.get('sha256'))[:16]}…")
        key = (obligation.worldmodel_path, actual)
        if key not in self.models:
            self.models[key] = load_mdp(obligation.worldmodel_path)
        return self.models[key]

    def _check_policy(self, path: Path, doc: dict[str, Any], lemma: PolicyLemma,
                      obligation: ObligationFile, mdp: Any) -> None:
        from proofs.kernel.check_policy import check_policy_certificate
        from proofs.policy.canonical import policy_hash
        from proofs.policy.load import load_policy

        assert obligation.objective is not None
        horizon = obligation.objective.horizon
        policy = load_policy(lemma.policy_path, mdp, allow_code=self.allow_code, horizon=horizon)
        actual = policy_hash(mdp, policy, horizon)
        recorded = doc.get("inputs", {}).get("policy", {}).get("table_sha256")
        if recorded != actual:
            raise CheckFailure(f"input step: the policy's behaviour changed: table SHA-256 {actual[:16]}…, "
                               f"the certificate was made for {str(recorded)[:16]}…")
        check_policy_certificate(doc, mdp, obligation.objective, policy, lemma.epsilon, witness_arrays(path, doc))

    def _check_composition(self, doc: dict[str, Any], lemma: CertificateLemma) -> None:
        from proofs.kernel.rules import check_composition

        recorded = doc.get("inputs", {}).get("premises") or {}
        for pid, actual in premise_hashes(self.root, self.certificates, lemma.premises).items():
            where = relative(certificate_path(self.root, self.certificates, pid), self.root)
            if actual == "missing" and not (recorded.get(pid) == "missing" and doc["status"] == "unknown"):
                raise CheckFailure(f"input step: the premise certificate {where} is missing")
            if recorded.get(pid) != actual:
                raise CheckFailure(f"input step: the premise certificate {where} changed since the composition")
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
            return
        self._check_direct_violation(premises["alignment"], premises["policy"])

    def _check_direct_violation(self, alignment: dict[str, Any], policy_doc: dict[str, Any]) -> None:
        """A refuted safety certificate: re-evaluate Φ under π₀ and find a certain violation.

        Uses the exact evaluation (or its sound float enclosure on large models) of
        `proofs.semantics.evaluate`, which re-runs the episode semantics under the fixed policy.
        """
        from proofs.policy.load import load_policy
        from proofs.semantics.evaluate import evaluate_constraint

        a_lemma, _ = self._lemma(alignment)
        p_lemma, p_file = self._lemma(policy_doc)
        assert isinstance(a_lemma, AlignmentLemma) and isinstance(p_lemma, PolicyLemma)
        assert p_file.objective is not None
        mdp = self._model(policy_doc, p_file)
        policy = load_policy(p_lemma.policy_path, mdp, allow_code=self.allow_code, horizon=p_file.objective.horizon)
        for c in a_lemma.desirable:
            value = evaluate_constraint(mdp, p_file.objective, policy, c)
            if c.comparison.decide(value.lo, value.hi, c.threshold) is False:
                return
        raise CheckFailure("direct evaluation step: no constraint of Φ is certainly violated by the policy, "
                           "so the refuted verdict does not follow")
