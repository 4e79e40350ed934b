"""Malformed and edited certificates: each is rejected with a reason naming the file and the field,
never a traceback, and every field is either checked or engine commentary.

Guards the hardening issue's defect 4 (one malformed certificate or sidecar aborted `proofs check`
with a traceback) and defect 9 (unchecked fields, such as an edited diagnosis, a path or an extra
key, were accepted).
"""

import copy
import io
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from proofs.core.certificate import read_arrays, read_certificate, sha256_bytes
from proofs.core.certificates import (
    AlignmentBody,
    AlignmentValues,
    Certificate,
    Engine,
    FloatAlignmentWitness,
    Inputs,
    Lemma,
    SidecarFile,
)
from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure
from proofs.core.objective import Objective
from proofs.core.statement import Statement
from proofs.kernel.check import witness_arrays
from proofs.prooftree.verify import Checker


def check(example, lemma_id):
    return Checker(example.root).check_file(example.path(lemma_id))


def rejects(example, lemma_id, match):
    with pytest.raises(CheckFailure, match=match) as info:
        check(example, lemma_id)
    message = str(info.value)
    assert message.startswith(f"certificates/{lemma_id}.json"), message
    assert "internal error" not in message, message
    return message


def edited(example, lemma_id, edit):
    doc = example.doc(lemma_id)
    edit(doc)
    example.write(lemma_id, doc)


def setter(*path_and_value):
    *path, value = path_and_value

    def edit(doc):
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value
    return edit


def deleter(*path):
    def edit(doc):
        for key in path[:-1]:
            doc = doc[key]
        del doc[path[-1]]
    return edit


# -- defect 4: wrong types and shapes ------------------------------------------------------------------

MALFORMED = [
    ("cliff.alignment", setter("witness", "x"), r"json:witness: expected an object, got the text 'x'"),
    ("cliff.walk-policy", setter("witness", "x"), r"json:witness: expected an object"),
    ("careful.safe", setter("values", "x"), r"json:values: expected an object"),
    ("cliff.alignment", setter("values", "j_star", "lo", "1" + "0" * 5000),
     r"json:values\.j_star\.lo: .*(more than 4000 digits|too long)"),
    ("cliff.alignment", setter("counterexample", "mixture", 0, "weight", "1e999999999"),
     r"json:counterexample\.mixture\[0\]\.weight: .*exponent"),
    ("cliff.walk-policy", setter("values", "gap", "hi", "1e9999"), r"json:values\.gap\.hi: .*exponent beyond"),
    ("cliff.alignment", setter("values", "constraints", 0, []), r"json:values\.constraints\[0\]: expected an object"),
    ("cliff.alignment", setter("counterexample", "mixture", 0, "before_decided", "steps", 0, []),
     r"json:counterexample\.mixture\[0\]\.before_decided\.steps\[0\]: expected an object"),
    ("cliff.alignment", deleter("values", "constraints", 0, "holds"),
     r"json:values\.constraints\[0\]\.holds: this field is missing"),
    ("cliff.alignment", deleter("inputs"), r"json:inputs: this field is missing"),
    ("cliff.alignment", setter("epsilon", "1/100"), r"json:epsilon: unknown field"),
    ("cliff.alignment", setter("values", "j_star", "lo", 3), r"json:values\.j_star\.lo: expected a number written"),
    ("cliff.alignment", setter("values", "j_star", {"lo": "1", "hi": "0"}), r"json:values\.j_star: .*empty"),
    ("cliff.alignment", setter("lemma", []), r"json:lemma: expected an object"),
    ("cliff.alignment", setter("status", {}), r"json:status: expected text"),
    ("careful.safe", setter("inputs", "premises", []), r"json:inputs\.premises: expected an object"),
    ("careful.safe", setter("values", "premises", 5), r"json:values\.premises: expected a list"),
    ("cliff.walk-policy", setter("diagnosis", 0, "visits", "often"), r"json:diagnosis\[0\]\.visits: expected a finite"),
    ("cliff.walk-policy", setter("witness", "steps", "6"), r"json:witness\.steps: expected an integer"),
    ("cliff.walk-policy", setter("inputs", "worldmodel", "sha256", 5), r"json:inputs\.worldmodel\.sha256: expected a SHA"),
    ("cliff.walk-policy", setter("statement", "objective", "horizon", True), r"statement step"),
    ("cliff.walk-policy", setter("statement", "objective", "horizon", 6.0), r"statement step"),
]


@pytest.mark.parametrize(("lemma_id", "edit", "match"), MALFORMED, ids=[m[2][:40] for m in MALFORMED])
def test_a_malformed_field_is_rejected_naming_file_and_field(example, lemma_id, edit, match):
    edited(example, lemma_id, edit)
    rejects(example, lemma_id, match)


RAW = [
    (lambda text: text[: len(text) // 2], "not a readable certificate"),
    (lambda text: "\x00\xff garbage", "not a readable certificate"),
    (lambda text: text.replace('"status": "refuted"', '"status": NaN'), "NaN is not a JSON number"),
    (lambda text: text.replace('"status": "refuted"', '"status": "refuted", "status": "proved"'), "appears twice"),
    (lambda text: text.replace('"constraint": 0', '"constraint": ' + "9" * 5000), "not a readable certificate"),
    (lambda text: "[" * 200_000 + "]" * 200_000, "not a readable certificate"),
    (lambda text: "[]", "not a proofs.certificate/1 certificate"),
]


@pytest.mark.parametrize(("corrupt", "match"), RAW, ids=["truncated", "bytes", "nan", "repeated-key", "long-int",
                                                          "deep", "a-list"])
def test_an_unreadable_file_is_rejected(example, corrupt, match):
    path = example.path("cliff.alignment")
    path.write_text(corrupt(path.read_text()), encoding="utf-8", errors="surrogateescape")
    message = rejects(example, "cliff.alignment", match)
    assert str(example.root) not in message   # no machine path, the project-relative name


def _npz(tmp_path, **arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    path = tmp_path / "w.npz"
    path.write_bytes(data)
    return path, sha256_bytes(data)


@pytest.mark.parametrize("array", [np.array([{"a": 1}, None], dtype=object), np.array(["a", "b"]),
                                   np.zeros((2, 2, 2)), np.array([1 + 2j]), np.zeros(3, dtype=[("x", "f8")])],
                         ids=["object", "text", "3-d", "complex", "structured"])
def test_a_sidecar_with_unexpected_arrays_is_rejected(tmp_path, array):
    path, sha = _npz(tmp_path, tables=array)
    with pytest.raises(CheckFailure, match=r"w\.npz: "):
        read_arrays(path, sha)


def test_a_corrupt_sidecar_is_rejected(tmp_path):
    path, _ = _npz(tmp_path, tables=np.zeros((3, 4), dtype=np.int8))
    data = path.read_bytes()[:-40] + b"\x00" * 40
    path.write_bytes(data)
    with pytest.raises(CheckFailure, match="not a readable witness file"):
        read_arrays(path, sha256_bytes(data))
    path.write_bytes(b"not an archive")
    with pytest.raises(CheckFailure, match="not a readable witness file"):
        read_arrays(path, sha256_bytes(b"not an archive"))


def test_a_sidecar_path_outside_the_certificate_is_rejected(tmp_path):
    objective = Objective("r", None, Fraction(1, 2))
    witness = FloatAlignmentWitness(0, (), SidecarFile("../../secret.npz", "0" * 64))
    body = AlignmentBody(objective, Fraction(0), AlignmentValues(Enclosure.exact(Fraction(0)), ()), witness)
    cert = Certificate("proofs.certificate/1", Lemma("hack", "alignment", "o.yaml"),
                       Statement("alignment", objective, Fraction(0)), Inputs(), "unknown", Engine("e", "1"), body)
    with pytest.raises(CheckFailure, match=r"witness\.file\.path: the witness file of hack\.json is 'hack\.npz'"):
        witness_arrays(tmp_path / "hack.json", cert)


def test_check_reports_every_certificate_after_a_malformed_one(example):
    edited(example, "cliff.alignment", setter("witness", "x"))
    edited(example, "careful.walk-policy", setter("values", "j_star", "lo", "1" + "0" * 5000))
    out = subprocess.run([sys.executable, "-m", "proofs", "check"], cwd=example.root, capture_output=True,
                         text=True, timeout=300, check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    rejected = [line for line in out.stdout.splitlines() if line.startswith("REJECTED")]
    assert len(rejected) == 4, out.stdout   # and the two compositions citing the edited certificates
    assert "cliff.alignment.json:witness: expected an object" in out.stdout
    assert "careful.walk-policy.json:values.j_star.lo" in out.stdout
    total = len(list((example.root / "certificates").glob("*.json")))
    assert out.stdout.count("accepted  ") == total - 4, out.stdout   # every other certificate is still checked


def test_read_certificate_names_the_file_it_rejects(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(b'{"format": "proofs.certificate/1", "a": 1, "a": 2}')
    with pytest.raises(CheckFailure, match="x.json: not a readable certificate .*'a' appears twice"):
        read_certificate(path)


# -- defect 9: every field checked, or commentary -------------------------------------------------------

EDITED = [
    ("cliff.alignment", setter("note", "hello"), r"json:note: unknown field"),
    ("cliff.alignment", setter("values", "extra", "1"), r"json:values\.extra: unknown field"),
    ("cliff.alignment", setter("counterexample", "mixture", 0, "comment", "x"),
     r"json:counterexample\.mixture\[0\]\.comment: unknown field"),
    ("cliff.walk-policy", setter("diagnosis", 0, "why", "x"), r"json:diagnosis\[0\]\.why: unknown field"),
    ("cliff.walk-policy", setter("engine", "seconds", 1.5), r"json:engine\.seconds: unknown field"),
    ("cliff.walk-policy", setter("witness", "note", "x"), r"json:witness\.note: unknown field"),
    ("cliff.walk-policy", setter("diagnosis", 0, "action", "run"), r"diagnosis\[0\]\.action: the policy does 'walk'"),
    ("cliff.walk-policy", setter("diagnosis", 0, "state", "cliff-top"), r"diagnosis\[0\]\.state: 'cliff-top'"),
    ("cliff.walk-policy", setter("diagnosis", 0, "optimal_action", "fly"), r"diagnosis\[0\]\.optimal_action"),
    ("cliff.walk-policy", setter("diagnosis", 0, "step", 6), r"diagnosis\[0\]\.step: 6 is not a step"),
    ("cliff.walk-policy", setter("inputs", "worldmodel", "path", "worldmodels/other.toml"),
     r"input step: the certificate names the world model 'worldmodels/other.toml'"),
    ("cliff.walk-policy", setter("lemma", "kind", "alignment"), r"binding step"),
    ("cliff.walk-policy", setter("values", "j_star", {"lo": "0", "hi": "1"}), r"values\.j_star: the claimed \[0, 1\]"),
    ("cliff.alignment", setter("statement", "epsilon", "1/2"), r"statement step"),
    ("cliff.alignment", setter("statement", "objective", "reward", "careful"), r"statement step"),
    ("cliff.alignment", setter("values", "margin", "inf"), r"values\.margin is given, but the lemma does not ask"),
    ("cliff.alignment", setter("values", "constraints", 0, "worst", {"lo": "0", "hi": "1"}),
     r"reported worst \[0, 1\] is not the exact"),
    ("cliff.alignment", setter("values", "constraints", 0, "lambda", "7"), r"reported lambda 7 is not the witness's"),
    ("cliff.alignment", setter("values", "constraints", 0, "constraint", 'P<=1 [ F "fatal" ]'),
     r"values\.constraints\[0\]: the row is about"),
    ("cliff.alignment", setter("values", "constraints", 0, "threshold", "1"), r"values\.constraints\[0\]: the row"),
    ("cliff.alignment", setter("values", "constraints", 0, "holds", None), r"holds is null"),
    ("cliff.alignment", setter("witness", "constraints", 0, "values", ["1", "2", "3", "4"]),
     r"per-state values are for a constraint without a step bound"),
    ("careful.safe", setter("values", "premises", ["careful.walk-policy", "careful.alignment"]),
     r"values\.premises must list the premises"),
    ("careful.safe", setter("values", "direct", 0, "value", {"lo": "0", "hi": "1"}),
     r"values\.direct\[0\]: the reported value"),
    ("careful.safe", setter("values", "direct", 0, "holds", False), r"values\.direct\[0\]: holds is False"),
    ("cliff.run-safe", setter("values", "direct", []), r"values\.direct has 0 rows"),
]


@pytest.mark.parametrize(("lemma_id", "edit", "match"), EDITED, ids=[m[2][:40] for m in EDITED])
def test_an_edited_field_is_rejected(example, lemma_id, edit, match):
    edited(example, lemma_id, edit)
    rejects(example, lemma_id, match)


def test_step_tables_past_the_constraints_decision_are_rejected(example):
    def edit(doc):
        steps = doc["counterexample"]["mixture"][0]["before_decided"]["steps"]
        steps.append(copy.deepcopy(steps[-1]))
    edited(example, "cliff.alignment", edit)
    rejects(example, "cliff.alignment", r"has 7 step tables, the constraint is decided by step 6")


@pytest.mark.parametrize("edit", [setter("engine", "name", "a-better-engine"), setter("engine", "version", "9"),
                                  setter("diagnosis", 0, "loss", 0.5)], ids=["engine", "version", "loss"])
def test_engine_commentary_is_accepted(example, edit):
    """The engine and the diagnosis' floats are commentary (docs/certificate-format.md); `explain`
    labels them so (tests/e2e/test_explain_trust.py)."""
    edited(example, "cliff.walk-policy", edit)
    assert check(example, "cliff.walk-policy")["status"] == "proved"


def test_the_committed_certificates_are_accepted(example):
    checker = Checker(example.root)
    for path in sorted((example.root / "certificates").glob("*.json")):
        checker.check_file(path)
