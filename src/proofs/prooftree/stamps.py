"""Stamps: which certificates the kernel accepted, against exactly which bytes (a local cache).

`proofs prove` re-uses a certificate whose inputs are unchanged and which still checks. Checking
is the kernel's full re-verification, which on large models costs a good part of proving. Like
`make`'s timestamps or Lake's traces, a stamp records that the kernel accepted a certificate:
the SHA-256 over the bytes of everything the check read (the certificate and its witness file,
the obligation file, the world model's files, the policy file, the premises' stamps), of the
source code of `proofs` itself and of the versions of Python and numpy (so a new kernel, or new
float arithmetic under it, re-checks everything). When a lemma's stamp is unchanged, the same
check on the same bytes would give the same answer, so it is not repeated.

Stamps live in ``.proofs/stamps.json`` at the project root (`proofs.prooftree.state`), which is
not committed: a fresh clone has none and re-checks every certificate once. `proofs check` never
uses stamps. A policy given as Python code (``module:function``) is never stamped: its behaviour
may depend on files the stamp cannot see.
"""

from __future__ import annotations

import hashlib
import json
import sys
from functools import cache
from pathlib import Path

import numpy as np

from proofs.kernel.check import policy_table_path
from proofs.prooftree.plan import Plan, Task
from proofs.prooftree.state import state_file, write_state
from proofs.prooftree.verify import certificate_path
from proofs.spec.obligation import CertificateLemma, PolicyLemma
from proofs.worldmodel.files import model_files

__all__ = ["Stamps"]

@cache
def _code_fingerprint() -> str:
    """SHA-256 over the package's source files and the versions of Python and numpy (the kernel's
    float arithmetic)."""
    digest = hashlib.sha256(f"{sys.version}\0{np.__version__}\0".encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _file_digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"missing"


class Stamps:
    """The stamps of one project, read at the start of a run and written at its end."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.path = state_file(plan.root, "stamps.json")
        try:
            data = json.loads(self.path.read_text()) if self.path.is_file() else {}
        except (OSError, json.JSONDecodeError):
            data = {}
        self.stamps: dict[str, str] = data if isinstance(data, dict) else {}
        self.changed = False
        self._inputs: dict[Path, bytes] = {}   # digests of input files, read once per run

    def _input(self, path: Path) -> bytes:
        """The digest of an input file (model, policy, obligation): many lemmas share one, and each
        lemma asks twice (before re-use, after a check)."""
        if path not in self._inputs:
            self._inputs[path] = _file_digest(path)
        return self._inputs[path]

    def key(self, task: Task) -> str | None:
        """The stamp the lemma's certificate would have now, or None if it cannot be stamped."""
        lemma, plan = task.lemma, self.plan
        digest = hashlib.sha256(_code_fingerprint().encode())
        cert = certificate_path(plan.root, plan.settings.certificates, lemma.id)
        digest.update(_file_digest(cert) + self._input(task.obligation.path))
        digest.update(_file_digest(cert.with_suffix(".npz")) + _file_digest(policy_table_path(cert)))
        if isinstance(lemma, CertificateLemma):
            for pid in lemma.premises:
                premise = self.stamps.get(pid)
                if premise is None:
                    return None
                digest.update(premise.encode())
            return digest.hexdigest()
        if task.obligation.worldmodel_path is not None:
            for path in sorted(model_files(task.obligation.worldmodel_path)):
                digest.update(self._input(path))
        if isinstance(lemma, PolicyLemma):
            if not isinstance(lemma.policy_path, Path):
                return None
            digest.update(self._input(lemma.policy_path))
        return digest.hexdigest()

    def accepted_before(self, task: Task) -> bool:
        key = self.key(task)
        return key is not None and self.stamps.get(task.lemma.id) == key

    def record(self, task: Task) -> None:
        """The kernel just accepted the lemma's certificate as it is on disk now."""
        key = self.key(task)
        if key is None:
            self.forget(task.lemma.id)
        elif self.stamps.get(task.lemma.id) != key:
            self.stamps[task.lemma.id] = key
            self.changed = True

    def forget(self, lemma_id: str) -> None:
        if self.stamps.pop(lemma_id, None) is not None:
            self.changed = True

    def save(self) -> None:
        if self.changed:
            write_state(self.path, (json.dumps(self.stamps, sort_keys=True, indent=1) + "\n").encode())
