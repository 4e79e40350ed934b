"""`proofs check`: the translation step, then the kernel.

UNTRUSTED orchestration around the trusted kernel. For each certificate:
1. **Translation** (untrusted readers; Storm for `.nm`): the certificate is still about the
   project's inputs. Its lemma is still declared with the same statement; the world model's
   source files still have the recorded SHA-256 and still translate to the recorded canonical
   model (written to ``.proofs/models/``); a policy file still has the recorded canonical table.
   A ``module:function`` policy is not run: it is checked through its written table. A
   mismatch makes the certificate STALE: re-proving renews it.
2. **Kernel** (`proofs.kernel.check.Kernel`): the certificate is right about the canonical model
   and policy table it names. ``--kernel-only`` runs this step alone, on ``.proofs/models/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofs.core.certificate import read_certificate, relative, sha256_bytes
from proofs.core.errors import CheckFailure, InputError, ProofsError, file_error
from proofs.core.schema import FieldError, header, validate
from proofs.kernel.check import Kernel, UnreadableCertificate
from proofs.spec.obligation import (
    AlignmentLemma,
    CertificateLemma,
    Lemma,
    ObligationFile,
    PolicyLemma,
    read_obligation_file,
    statement_of,
)

__all__ = ["Checker", "StaleCertificate", "UnreadableInput", "certificate_path", "premise_hashes"]


class StaleCertificate(CheckFailure):
    """The certificate was made for other inputs: the model's bytes, the lemma's statement, the
    policy's behaviour or a premise changed since (or no longer reads). Re-proving renews it."""


class UnreadableInput(CheckFailure):
    """An input of the certificate (model, policy, obligation, certificate) cannot be read at all
    (permissions, a loop of symbolic links): the certificate is not judged, and the run is an
    input error (exit code 2), not a rejection."""


def certificate_path(root: Path, certificates: Path, lemma_id: str) -> Path:
    return root / certificates / f"{lemma_id}.json"


def premise_hashes(root: Path, certificates: Path, premises: tuple[str, ...]) -> dict[str, str]:
    """SHA-256 of each premise's certificate file ("missing" when there is none)."""
    out = {}
    for pid in premises:
        path = certificate_path(root, certificates, pid)
        out[pid] = sha256_bytes(path.read_bytes()) if path.is_file() else "missing"
    return out


def _atoms_from(texts: list[str]) -> list[Any]:
    """The atoms of Φ a standalone certificate records, read back (``t>=deadline``)."""
    from proofs.core.errors import Location
    from proofs.core.formula import atoms_of
    from proofs.spec.parse import parse_state_formula

    out: list[Any] = []
    for text in texts:
        out.extend(atoms_of(parse_state_formula(text, Location("inputs.worldmodel.atoms"))))
    return out


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@dataclass
class Checker:
    """Checks certificates under one project root: translation step, then kernel (module docstring).

    ``kernel_only`` skips the translation step: the kernel judges the certificates against the
    canonical models already in ``.proofs/models/``. ``atoms`` maps a world model (path and
    constants) to the atoms of Φ that the project uses on it (computed from the project when not
    given), so that a translation here is the one `proofs prove` made.
    """

    root: Path
    certificates: Path = Path("certificates")
    allow_code: bool = False
    kernel_only: bool = False
    atoms: dict[Any, set[Any]] | None = None
    translations: dict[Any, Any] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)   # per certificate: what the translation step did
    _projects: dict[Path, dict[str, str]] = field(default_factory=dict, init=False, repr=False)   # declared ids per project
    kernel: Kernel = field(init=False)

    def __post_init__(self) -> None:
        from proofs.worldmodel.cache import MODELS

        self.kernel = Kernel(self.root / MODELS)

    @property
    def accepted(self) -> dict[str, dict[str, Any]]:
        return self.kernel.accepted

    def check_file(self, path: Path) -> dict[str, Any]:
        """Check one certificate file; return its document when accepted.

        Raises
        ------
        StaleCertificate
            The certificate was made for inputs that have changed since.
        UnreadableInput
            An input cannot be read at all.
        CheckFailure
            Any other rejection (a malformed, edited or wrong certificate), naming the file and the
            field or step. No other exception escapes, whatever the file holds.
        """
        key = str(path.resolve())
        if key in self.kernel.accepted:
            return self.kernel.accepted[key]
        prefix = relative(path, self.root)
        try:
            if not self.kernel_only:
                self._translation(path, read_certificate(path))
            return self.kernel.check_file(path)
        except FieldError as exc:
            raise CheckFailure(f"{prefix}:{exc}" if exc.field else f"{prefix}: {exc}") from None
        except CheckFailure as exc:
            message = str(exc).replace(str(path), prefix, 1)
            kind = StaleCertificate if isinstance(exc, StaleCertificate) else \
                UnreadableInput if isinstance(exc, (UnreadableInput, UnreadableCertificate)) else CheckFailure
            raise kind(message if message.startswith(prefix) else f"{prefix}: {message}") from None
        except InputError as exc:
            if isinstance(exc.__cause__ or exc.__context__, OSError) or "cannot read" in exc.problem:
                raise UnreadableInput(f"{prefix}: {exc}") from None
            raise StaleCertificate(f"{prefix}: an input no longer reads: {exc}") from None
        except ProofsError as exc:
            raise StaleCertificate(f"{prefix}: an input no longer reads: {exc}") from None
        except OSError as exc:
            raise UnreadableInput(f"{prefix}: {file_error(exc)}") from None
        except Exception as exc:  # noqa: BLE001 (never a traceback: a checker bug still rejects, and says so)
            raise CheckFailure(f"{prefix}: internal error of the checker ({type(exc).__name__}: {str(exc)[:200]}); "
                               "the certificate is rejected. Please report this") from None

    # -- step 1: translation -------------------------------------------------------------------
    def _translation(self, path: Path, doc: dict[str, Any]) -> None:
        kind, _ = header(doc)
        if "obligation" not in doc["lemma"]:
            return self._standalone(path, doc)
        lemma, obligation = self._lemma(doc)
        notes = self.notes.setdefault(str(path.resolve()), [])
        if kind != lemma.kind:
            raise StaleCertificate(f"binding step: the certificate is for a {kind} lemma, {lemma.id!r} is now a "
                                   f"{lemma.kind} lemma")
        validate(doc)   # the strict shape before any input, so that a malformed field is named as such
        if path.name != f"{lemma.id}.json":
            raise CheckFailure(f"binding step: the file is named {path.name!r} but certifies lemma {lemma.id!r} "
                               "(a certificate swapped between lemmas)")
        if not _same(doc.get("statement"), statement_of(lemma, obligation.objective)):
            raise StaleCertificate("statement step: the certificate's statement differs from the obligation "
                                   f"{doc['lemma']['obligation']!r} (it changed since the proof)")
        notes.append(f"statement: the one {relative(obligation.path, self.root)} declares")
        if isinstance(lemma, AlignmentLemma) and "margin" in doc["values"] and not lemma.margin:
            raise CheckFailure("binding step: values.margin is given, but the lemma does not ask for a margin")
        if isinstance(lemma, CertificateLemma):
            self._premises(doc, lemma)
            notes.append("premises: the certificate files it was composed from")
            return
        inputs: dict[str, Any] = doc["inputs"] if isinstance(doc.get("inputs"), dict) else {}
        recorded: dict[str, Any] = inputs["worldmodel"] if isinstance(inputs.get("worldmodel"), dict) else {}
        assert obligation.worldmodel_path is not None
        model = relative(obligation.worldmodel_path, self.root)
        if recorded.get("path") != model:
            raise StaleCertificate(f"input step: the certificate names the world model "
                                   f"{str(recorded.get('path'))[:80]!r}, the obligation {model!r}")
        translation = self.translation(obligation)
        if recorded.get("sha256") != translation.source_sha256:
            raise StaleCertificate(f"input step: world model {model} has SHA-256 {translation.source_sha256[:16]}…, "
                                   f"the certificate was made for {str(recorded.get('sha256'))[:16]}…")
        if recorded.get("canonical") != translation.sha256:
            raise StaleCertificate(f"translation step: world model {model} translates to the canonical model "
                                   f"{translation.sha256[:16]}…, the certificate names {str(recorded.get('canonical'))[:16]}…")
        if not (self.kernel.models / f"{translation.sha256}.model").is_file():
            self.kernel.loaded.setdefault(translation.sha256, translation.mdp)   # a cache we may not write
        notes.append(f"world model: {model} translates to canonical model {translation.sha256[:16]}…"
                     + (" (cached)" if translation.cached else ""))
        if isinstance(lemma, PolicyLemma):   # over the kernel's own reading of the model, which it then re-uses
            notes.append(self._policy(doc, lemma, obligation, self.kernel.model(doc)))

    def _standalone(self, path: Path, doc: dict[str, Any]) -> None:
        """A certificate made from Python (`proofs.api`), declared by no obligation: it stands on
        its own statement. Its paths are relative to its project root (the nearest folder upwards
        of the certificate holding pyproject.toml, else the certificate's folder); its world model
        must still translate to the canonical model it names, with the constants and atoms it records."""
        from proofs.prooftree.plan import find_root
        from proofs.worldmodel.cache import translate

        kind, _ = validate(doc)
        notes = self.notes.setdefault(str(path.resolve()), [])
        lemma_id = doc["lemma"]["id"]
        if path.name != f"{lemma_id}.json":
            raise CheckFailure(f"binding step: the file is named {path.name!r} but certifies lemma {lemma_id!r} "
                               "(a certificate swapped between lemmas)")
        declared = self._declared(path)
        if lemma_id in declared:
            raise StaleCertificate(f"binding step: lemma {lemma_id!r} is declared in {declared[lemma_id]}, but this "
                                   "certificate names no obligation (saved from Python without obligation=)")
        notes.append("statement: its own (a standalone certificate: no obligation declares it)")
        if kind == "certificate":
            for pid in doc["statement"].get("premises", []):
                premise = path.with_name(f"{pid}.json")
                if premise.is_file():
                    self.check_file(premise)
            notes.append("premises: the certificate files beside it")
            return
        recorded = doc["inputs"]["worldmodel"]
        base = find_root(path.resolve().parent)
        model = base / recorded["path"]
        constants = tuple(sorted(recorded.get("constants", {}).items()))
        translation = translate(model, base, constants, _atoms_from(recorded.get("atoms", [])))
        shown = recorded["path"]
        if recorded["sha256"] != translation.source_sha256:
            raise StaleCertificate(f"input step: world model {shown} has SHA-256 {translation.source_sha256[:16]}…, "
                                   f"the certificate was made for {recorded['sha256'][:16]}…")
        if recorded["canonical"] != translation.sha256:
            raise StaleCertificate(f"translation step: world model {shown} translates to the canonical model "
                                   f"{translation.sha256[:16]}…, the certificate names {recorded['canonical'][:16]}…")
        self.kernel.loaded.setdefault(translation.sha256, translation.mdp)
        notes.append(f"world model: {shown} translates to canonical model {translation.sha256[:16]}…"
                     + (" (cached)" if translation.cached else ""))
        if kind == "policy":
            notes.append("policy: checked through its written table")

    def _declared(self, path: Path) -> dict[str, str]:
        """The lemma ids the obligations of the certificate's project declare, and where."""
        from proofs.prooftree.plan import find_root
        from proofs.spec.obligation import discover, load_obligations, read_settings

        base = find_root(path.resolve().parent)
        if base not in self._projects:   # read once per project, not once per standalone certificate
            files = load_obligations(discover(base, read_settings(base / "pyproject.toml"))) \
                if (base / "pyproject.toml").is_file() else []
            self._projects[base] = {lemma.id: relative(f.path, base) for f in files for lemma in f.lemmas}
        return self._projects[base]

    def translation(self, obligation: ObligationFile) -> Any:
        from proofs.worldmodel.cache import translate

        assert obligation.worldmodel_path is not None
        key = (obligation.worldmodel_path, obligation.worldmodel_constants)
        if key not in self.translations:
            self.translations[key] = translate(obligation.worldmodel_path, self.root,
                                               obligation.worldmodel_constants, self._atoms().get(key, ()))
        return self.translations[key]

    def _atoms(self) -> dict[Any, set[Any]]:
        if self.atoms is None:
            from proofs.prooftree.plan import project_atoms

            self.atoms = project_atoms(self.root)
        return self.atoms

    def _policy(self, doc: dict[str, Any], lemma: PolicyLemma, obligation: ObligationFile, mdp: Any) -> str:
        """The policy file still has the recorded canonical table (code is never run here)."""
        from proofs.policy.canonical import policy_hash
        from proofs.policy.load import is_code, load_policy

        spec = lemma.policy_path
        if is_code(spec):
            return f"policy: {spec} is code, not run by check; checked through its written table"
        assert obligation.objective is not None
        horizon = obligation.objective.horizon
        policy = load_policy(spec, mdp, allow_code=False, horizon=horizon)
        actual = policy_hash(mdp, policy, horizon)
        recorded = doc.get("inputs", {}).get("policy", {}).get("table_sha256")
        if recorded != actual:
            raise StaleCertificate(f"input step: the policy's behaviour changed: table SHA-256 {actual[:16]}…, "
                                   f"the certificate was made for {str(recorded)[:16]}…")
        return f"policy: {relative(Path(spec), self.root)} has the written table {actual[:16]}…"

    def _premises(self, doc: dict[str, Any], lemma: CertificateLemma) -> None:
        recorded = doc.get("inputs", {}).get("premises", {})
        for pid, actual in premise_hashes(self.root, self.certificates, lemma.premises).items():
            where = relative(certificate_path(self.root, self.certificates, pid), self.root)
            if actual == "missing" and not (recorded.get(pid) == "missing" and doc.get("status") == "unknown"):
                raise StaleCertificate(f"input step: the premise certificate {where} is missing")
            if recorded.get(pid) != actual:
                raise StaleCertificate(f"input step: the premise certificate {where} changed since the composition")
            if actual != "missing" and doc.get("status") != "unknown":
                self.check_file(certificate_path(self.root, self.certificates, pid))

    # -- what explain and prove read -----------------------------------------------------------
    def inputs(self, doc: dict[str, Any]) -> tuple[Lemma, ObligationFile, Any]:
        """The lemma of an accepted certificate, its obligation (with the lemma's objective) and
        its world model (None for a composition)."""
        lemma, obligation = self._lemma(doc)
        if isinstance(lemma, CertificateLemma):
            return lemma, obligation, None
        return lemma, obligation, self.translation(obligation).mdp

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

