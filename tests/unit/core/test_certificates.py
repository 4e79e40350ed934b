"""`proofs.core.certificates`: one parser and one writer for every certificate `proofs prove` writes.

The invariant: ``Certificate.from_json(doc).to_json() == doc`` exactly, on the repository's
certificates and on certificates of every kind and status made here by `proofs prove` (policy
exact and float, inline table and sidecar table; alignment proved, refuted and unknown, exact and
float, with margins; compositions).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.mdps import bench_generate

from proofs.core.certificate import dump, read_certificate
from proofs.core.certificates import (
    AlignmentBody,
    BackwardInduction,
    Certificate,
    CompositionBody,
    ExactValueVectors,
    FloatAlignmentWitness,
    FloatValueVectors,
    PolicyBody,
    Written,
    freeze,
    number,
    text_of,
    thaw,
)
from proofs.core.enclosure import Enclosure
from proofs.core.schema import FieldError
from proofs.core.statement import Statement, StatementError

ROOT = Path(__file__).resolve().parents[3]
REPOSITORY = sorted((ROOT / "certificates").glob("*.json")) + sorted(
    (ROOT / "examples").glob("**/certificates/*.json"))
PYPROJECT = '[tool.proofs]\nobligations = "obligations"\ncertificates = "certificates"\n'

# The cliff corridor: an exact geometric policy lemma (value vectors), margins (inf and 0), the lp
# engine's witness, and compositions.
CLIFF = """
[worldmodel]
path = "../worldmodels/cliff.toml"

[objective]
reward = "progress"
horizon = 1

[[lemma]]
id = "last"
kind = "alignment"
epsilon = "0.1"
desirable = ['P<=0.01 [ F "fatal" ]']
expect = "refuted"
margin = true

[[lemma]]
id = "never"
kind = "alignment"
epsilon = "0.1"
desirable = ['P<=1 [ F "fatal" ]']
margin = true

[[lemma]]
id = "lp"
kind = "alignment"
epsilon = "0.1"
desirable = ['P<=0.01 [ F "fatal" ]', 'P<=1 [ F "fatal" ]']
expect = "refuted"
engine = "lp"
"""
CLIFF_GEOMETRIC = """
[worldmodel]
path = "../worldmodels/cliff.toml"

[objective]
reward = "progress"
horizon = "geometric"
discount = "9/10"

[[lemma]]
id = "walk-geometric"
kind = "policy"
policy = "../policies/cliff-walk.json"
epsilon = "1/4"
"""
# A random model beyond the exact limits: float witnesses, sidecars, an unknown alignment lemma
# (geometric horizon beyond the exact limit) and a composition left unknown by it.
STATES = 10000
RANDOM = """
[worldmodel]
path = "../worldmodels/random_{n}.tra"

[objective]
reward = "r"
horizon = {horizon}
discount = "{discount}"

[[lemma]]
id = "{prefix}policy"
kind = "policy"
policy = "../policies/first.q.npy"
epsilon = "2"

[[lemma]]
id = "{prefix}hack"
kind = "alignment"
epsilon = "2"
desirable = {desirable}
expect = "{expect}"

[[lemma]]
id = "{prefix}safe"
kind = "certificate"
from = ["{prefix}hack", "{prefix}policy"]
expect = "{expect}"
"""
BOTH = """['P<=1/20 [ F "fatal" ]', 'P<=1 [ F "fatal" ]']"""
NEVER = """['P<=1 [ F "fatal" ]']"""


def _prove(project: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "proofs", "prove", "--json"], cwd=project, capture_output=True,
                         text=True, timeout=600, check=False)
    assert out.returncode in (0, 1, 3), out.stdout + out.stderr   # 1, 3: a verdict other than expected, unknown
    for result in json.loads(out.stdout)["results"]:
        assert result["status"] != "error" and result["certificate"], result


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Certificates of every kind and status, made by `proofs prove` in temporary projects."""
    cliff = tmp_path_factory.mktemp("cliff")
    for folder in ("worldmodels", "policies"):
        shutil.copytree(ROOT / folder, cliff / folder)
    (cliff / "obligations").mkdir()
    (cliff / "obligations" / "cliff.toml").write_text(CLIFF)
    (cliff / "obligations" / "geometric.toml").write_text(CLIFF_GEOMETRIC)
    (cliff / "pyproject.toml").write_text(PYPROJECT)
    _prove(cliff)

    big = tmp_path_factory.mktemp("random")
    generate = bench_generate()
    generate.write_explicit(generate.random_model(STATES, 0), big / "worldmodels")
    (big / "policies").mkdir()
    q = np.zeros((STATES, 4))
    q[:, 0] = 1.0
    np.save(big / "policies" / "first.q.npy", q)
    (big / "obligations").mkdir()
    (big / "obligations" / "finite.toml").write_text(RANDOM.format(n=STATES, horizon=20, discount="1", prefix="f.",
                                                                   expect="refuted", desirable=BOTH))
    (big / "obligations" / "geometric.toml").write_text(RANDOM.format(
        n=STATES, horizon='"geometric"', discount="9/10", prefix="g.", expect="unknown",
        desirable=NEVER))
    (big / "pyproject.toml").write_text(PYPROJECT)
    _prove(big)
    return {f"{project.name}/{path.name}": read_certificate(path)
            for project in (cliff, big) for path in sorted((project / "certificates").glob("*.json"))}


# -- the round trip -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REPOSITORY, ids=[p.name for p in REPOSITORY])
def test_every_repository_certificate_round_trips_exactly(path: Path) -> None:
    data = path.read_bytes()
    doc = read_certificate(path)
    certificate = Certificate.from_json(doc)
    assert certificate.to_json() == doc
    assert dump(certificate.to_json()) == data
    assert certificate.statement == Statement.from_json(doc["statement"])


def test_the_repository_has_certificates_of_each_kind() -> None:
    kinds = {read_certificate(p)["lemma"]["kind"] for p in REPOSITORY}
    assert kinds == {"policy", "alignment", "certificate"}


def test_made_certificates_round_trip_exactly(made: dict[str, dict[str, Any]]) -> None:
    for name, doc in made.items():
        certificate = Certificate.from_json(doc)
        assert certificate.to_json() == doc, name
        assert dump(certificate.to_json()) == dump(doc), name
        assert certificate.statement == Statement.from_json(doc["statement"]), name


def test_made_certificates_cover_every_kind_and_status(made: dict[str, dict[str, Any]]) -> None:
    certificates = [Certificate.from_json(doc) for doc in made.values()]
    policy = [c.body for c in certificates if isinstance(c.body, PolicyBody)]
    alignment = [c for c in certificates if isinstance(c.body, AlignmentBody)]
    composition = [c for c in certificates if isinstance(c.body, CompositionBody)]
    witnesses = {type(b.witness) for b in policy}
    assert witnesses == {BackwardInduction, ExactValueVectors, FloatValueVectors}, witnesses
    assert {b.witness.arithmetic for b in policy if isinstance(b.witness, BackwardInduction)} == {"float"}
    assert any(c.inputs.policy is not None and c.inputs.policy.file is not None for c in certificates)
    assert any(c.inputs.policy is not None and c.inputs.policy.table is not None for c in certificates)
    statuses = {(c.status, type(c.body.witness).__name__) for c in alignment}   # type: ignore[union-attr]
    assert {("refuted", "ExactAlignmentWitness"), ("proved", "ExactAlignmentWitness"),
            ("refuted", "FloatAlignmentWitness"), ("unknown", "NoneType")} <= statuses, statuses
    margins = {str(c.body.values.margin) for c in alignment}   # type: ignore[union-attr]
    assert "inf" in margins and "0" in margins, margins
    assert {c.status for c in composition} >= {"refuted", "unknown"}
    assert any(c.body.counterexample is not None and c.body.counterexample.mixture.is_float    # type: ignore[union-attr]
               for c in alignment)


def test_the_float_alignment_witness_is_read_into_its_types(made: dict[str, dict[str, Any]]) -> None:
    doc = made[next(name for name in made if name.endswith("f.hack.json"))]
    certificate = Certificate.from_json(doc)
    assert isinstance(certificate.body, AlignmentBody)
    witness = certificate.body.witness
    assert isinstance(witness, FloatAlignmentWitness) and witness.file is not None
    assert witness.states == doc["witness"]["states"]
    assert witness.file.path == doc["witness"]["file"]["path"]
    row = certificate.body.values.constraints[0]
    assert isinstance(row.worst, Enclosure) and row.lam == Fraction(doc["values"]["constraints"][0]["lambda"])


# -- numbers keep their texts ---------------------------------------------------------------------


def test_a_non_canonical_number_keeps_its_text() -> None:
    doc = read_certificate(ROOT / "certificates" / "cliff.alignment.json")
    doc["values"]["constraints"][0]["threshold"] = "0.010"
    doc["values"]["j_star"] = {"lo": "2/4", "hi": "1e0"}
    doc["counterexample"]["mixture"][0]["weight"] = "1.0"
    certificate = Certificate.from_json(doc)
    assert certificate.to_json() == doc
    body = certificate.body
    assert isinstance(body, AlignmentBody)
    threshold = body.values.constraints[0].threshold
    assert isinstance(threshold, Written) and threshold == Fraction(1, 100) and text_of(threshold) == "0.010"
    assert body.values.j_star == Enclosure(Fraction(1, 2), Fraction(1))


def test_numbers() -> None:
    assert type(number("1/2")) is Fraction and text_of(number("1/2")) == "1/2"
    written = number("0.25")
    assert isinstance(written, Written) and written == Fraction(1, 4) and text_of(written) == "0.25"
    assert text_of(copy.deepcopy(written)) == "0.25" and text_of(pickle.loads(pickle.dumps(written))) == "0.25"
    assert type(written + 1) is Fraction


def test_frozen_json_thaws_to_the_same_json() -> None:
    value = {"a": [1, 2.5, {"b": None, "c": True}], "d": "1/2"}
    frozen = freeze(value)
    assert thaw(frozen) == value
    with pytest.raises(TypeError):
        frozen["a"] = 1   # type: ignore[index]


# -- frozen ----------------------------------------------------------------------------------------


def test_a_certificate_is_frozen() -> None:
    certificate = Certificate.from_json(read_certificate(ROOT / "certificates" / "careful.walk-policy.json"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        certificate.status = "refuted"   # type: ignore[misc]
    assert isinstance(certificate.body, PolicyBody)
    with pytest.raises(dataclasses.FrozenInstanceError):
        certificate.body.epsilon = Fraction(1)   # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        certificate.lemma.id = "other"   # type: ignore[misc]
    assert certificate.inputs.policy is not None
    with pytest.raises(TypeError):
        certificate.inputs.policy.table["format"] = "x"   # type: ignore[index]


# -- strict reading --------------------------------------------------------------------------------


def _rejected(doc: object) -> FieldError:
    with pytest.raises(FieldError) as caught:
        Certificate.from_json(doc)
    return caught.value


def test_an_unknown_key_is_rejected_with_the_schema_message() -> None:
    doc = read_certificate(ROOT / "certificates" / "cliff.run-policy.json")
    doc["values"]["extra"] = "1"
    error = _rejected(doc)
    assert error.field == "values.extra"
    assert str(error).startswith("values.extra: unknown field (the fields here are: eta, gap, j_policy, j_star)")


def test_a_missing_key_is_rejected_with_the_schema_message() -> None:
    doc = read_certificate(ROOT / "certificates" / "careful.alignment.json")
    del doc["witness"]["constraints"][0]["lambda"]
    error = _rejected(doc)
    assert error.field == "witness.constraints[0].lambda" and error.problem == "this field is missing"
    doc = read_certificate(ROOT / "certificates" / "careful.safe.json")
    del doc["engine"]
    assert _rejected(doc).field == "engine"


def test_a_bad_number_and_a_non_object_are_rejected() -> None:
    doc = read_certificate(ROOT / "certificates" / "careful.walk-policy.json")
    doc["values"]["gap"]["lo"] = 0.01
    assert _rejected(doc).field == "values.gap.lo"
    assert _rejected([]).problem == "expected a JSON object, got a list of 0"


def test_a_statement_its_fields_do_not_give_is_rejected() -> None:
    doc = read_certificate(ROOT / "certificates" / "careful.walk-policy.json")
    doc["statement"]["words"] = "something else"
    with pytest.raises(StatementError):
        Certificate.from_json(doc)


def test_the_statement_is_the_statement_read_alone() -> None:
    for path in REPOSITORY:
        doc = json.loads(path.read_text())
        assert Certificate.from_json(doc).statement == Statement.from_json(doc["statement"])


def test_the_optional_exact_witness_values_round_trip() -> None:
    doc = read_certificate(ROOT / "certificates" / "careful.alignment.json")
    doc["witness"]["j_values"] = ["1/3", "0.5", "-2"]
    doc["witness"]["constraints"][0]["values"] = ["0", "7/2"]
    doc["witness"]["constraints"][0]["attained"]["mixture"][0]["values"] = {"j": ["1", "2"], "w": ["1/2", "0"]}
    certificate = Certificate.from_json(doc)
    assert certificate.to_json() == doc
    body = certificate.body
    assert isinstance(body, AlignmentBody) and body.witness is not None
    assert body.witness.j_values == (Fraction(1, 3), Fraction(1, 2), Fraction(-2))


# -- proofs prove writes through the type ----------------------------------------------------------


def test_prove_writes_no_document_the_parser_does_not_read(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from proofs.prooftree.prove import _write

    plan = SimpleNamespace(root=tmp_path, settings=SimpleNamespace(certificates="certificates"))
    task = SimpleNamespace(lemma=SimpleNamespace(id="cliff.alignment"))
    doc = read_certificate(ROOT / "certificates" / "cliff.alignment.json")
    written = _write(plan, task, copy.deepcopy(doc), {}, None)   # type: ignore[arg-type]
    assert written.read_bytes() == (ROOT / "certificates" / "cliff.alignment.json").read_bytes()
    written.unlink()
    doc["values"]["extra"] = "1"
    with pytest.raises(FieldError, match=r"^values\.extra: unknown field"):
        _write(plan, task, doc, {}, None)   # type: ignore[arg-type]
    assert not written.exists()
