"""Fuzzing the checker with random mutations of the committed certificates (hardening defect 4).

Each mutation (a value of another JSON type, a deleted or added key, a huge or odd number, a
truncated file, random bytes) must end in a rejection with a message naming the file, or, only
when it changes no meaning (engine commentary, a policy table entry the kernel re-evaluates, a
number written another way), in acceptance; never in an uncaught exception, and within a
bounded time per example.
"""

import copy
import json
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.kernel.conftest import copy_example

from proofs.core.errors import CheckFailure
from proofs.core.rational import parse_rational
from proofs.prooftree.verify import Checker

SMALL = ["careful.alignment", "careful.safe", "careful.walk-policy", "cliff.alignment", "cliff.run-policy",
         "cliff.run-safe", "cliff.walk-policy"]
LARGE = ["warehouse.careful-alignment", "warehouse.delivery-alignment", "warehouse.trained-policy",
         "warehouse.trained-safe"]
ODD_NUMBERS = ["1e999999999", "9" * 5000, "-1e-999999", "1/0", "NaN", "inf", " 1 ", "0x10", "1_000", "", "½",
               "1" * 4000 + "/3", "-0", "1e4000", "3/" + "7" * 4301]
OTHER_VALUES = [None, True, False, 0, -1, 1.5, 10**30, "x", "", [], {}, [1, "a"], {"lo": "0", "hi": "1"}]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_example(tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="module")
def models():
    return {}   # the world models' translations, made once for all examples (the model files never change)


def nodes(value, path=()):
    """Every (path, value) of a JSON document, the root included."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from nodes(item, (*path, i))


def at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def mutations(draw, lemma_ids):
    """(lemma id, the file's new bytes, the document they hold, or None when they are not JSON)."""
    lemma_id = draw(st.sampled_from(lemma_ids))
    original = (copy_example.root / "certificates" / f"{lemma_id}.json").read_bytes()  # type: ignore[attr-defined]
    kind = draw(st.sampled_from(["retype", "delete", "add", "number", "truncate", "bytes"]))
    if kind in ("truncate", "bytes"):
        raw = original[: draw(st.integers(0, len(original) - 1))] if kind == "truncate" else draw(st.binary(max_size=200))
        try:   # cutting only the final newline leaves the same document
            return lemma_id, raw, json.loads(raw)
        except ValueError:
            return lemma_id, raw, None
    doc = json.loads(original)
    everything = list(nodes(doc))
    if kind == "delete":
        candidates = [p for p, _ in everything if p]
        path = draw(st.sampled_from(candidates))
        del at(doc, path[:-1])[path[-1]]
    elif kind == "add":
        candidates = [p for p, v in everything if isinstance(v, dict)]
        path = draw(st.sampled_from(candidates))
        key = draw(st.text(min_size=1, max_size=8))
        at(doc, path)[key] = draw(st.sampled_from(OTHER_VALUES))
    elif kind == "number":
        candidates = [p for p, v in everything if isinstance(v, str) and _is_number(v)]
        path = draw(st.sampled_from(candidates))
        at(doc, path[:-1])[path[-1]] = draw(st.sampled_from(ODD_NUMBERS))
    else:
        candidates = [p for p, _ in everything if p]
        path = draw(st.sampled_from(candidates))
        old = at(doc, path)
        new = draw(st.sampled_from([v for v in OTHER_VALUES if type(v) is not type(old)]))
        at(doc, path[:-1])[path[-1]] = new
    return lemma_id, json.dumps(doc).encode(), doc


def _is_number(text):
    try:
        parse_rational(text)
        return True
    except ValueError:
        return False


def meaning(doc):
    """What a certificate claims and binds: without engine commentary (the engine, a note, the
    diagnosis, the margin ε*), without the witness's policy tables (the kernel re-evaluates whatever they
    say) or the model–reality margin's numbers (whatever η it accepts holds), with every number as
    its exact value."""
    doc = copy.deepcopy(doc)
    if isinstance(doc, dict):
        doc.pop("engine", None)
        doc.pop("reason", None)
        if isinstance(doc.get("values"), dict):
            doc["values"].pop("margin", None)
            if "eta" in doc["values"]:   # every η the kernel accepts is true (a witness, like the tables)
                doc["values"]["eta"] = "checked"
        doc.pop("diagnosis", None)   # its rows must name real states and actions, but may be any of them

    def normal(value):
        if isinstance(value, dict):
            return {k: ("tables" if k == "before_decided" else normal(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [normal(v) for v in value]
        if isinstance(value, str) and _is_number(value):
            return parse_rational(value)
        return value
    return normal(doc)


def weakened(original, doc):
    """The original without the parts of the model–reality margin η that ``doc`` dropped: a
    certificate that claims less (no η, or η_lo without η_hi) is harmless, every claim left being
    checked."""
    original = copy.deepcopy(original)
    mine, theirs = (d.get("values") if isinstance(d, dict) else None for d in (original, doc))
    if isinstance(mine, dict) and "eta" in mine:
        if not isinstance(theirs, dict) or "eta" not in theirs:
            del mine["eta"]
        elif isinstance(theirs["eta"], dict) and "hi" not in theirs["eta"] and "environment" not in theirs["eta"]:
            mine["eta"] = {k: v for k, v in mine["eta"].items() if k not in ("hi", "environment")}
    return original


def run_checker(project, models, lemma_id, data):
    path = project / "certificates" / f"{lemma_id}.json"
    original = path.read_bytes()
    path.write_bytes(data)
    try:
        return Checker(project, translations=models).check_file(path)
    finally:
        path.write_bytes(original)


def assert_rejected_or_harmless(project, models, lemma_id, data, doc):
    original = json.loads((project / "certificates" / f"{lemma_id}.json").read_bytes())
    try:
        run_checker(project, models, lemma_id, data)
    except CheckFailure as exc:
        message = str(exc)
        assert message.startswith(f"certificates/{lemma_id}.json"), message
        assert "internal error" not in message, message
        return
    assert doc is not None and meaning(doc) == meaning(weakened(original, doc)), "a meaningful change was accepted"


def _bind(project):
    copy_example.root = project   # type: ignore[attr-defined]  # where `mutations` reads the originals


@settings(max_examples=250, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_random_mutations_of_small_certificates_are_rejected_or_harmless(project, models, data):
    _bind(project)
    lemma_id, raw, doc = data.draw(mutations(SMALL))
    assert_rejected_or_harmless(project, models, lemma_id, raw, doc)


@settings(max_examples=30, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_random_mutations_of_large_certificates_are_rejected_or_harmless(project, models, data):
    _bind(project)
    lemma_id, raw, doc = data.draw(mutations(LARGE))
    assert_rejected_or_harmless(project, models, lemma_id, raw, doc)


@settings(max_examples=4, deadline=120_000, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_mutations_through_the_command_line(tmp_path_factory, data):
    """The real `proofs check`: exit 1 with the mutated file rejected (or 0 when harmless), every
    other certificate still reported, no traceback."""
    project = copy_example(tmp_path_factory.mktemp("cli"))
    _bind(project)
    lemma_id, raw, doc = data.draw(mutations(SMALL))
    (project / "certificates" / f"{lemma_id}.json").write_bytes(raw)
    out = subprocess.run([sys.executable, "-m", "proofs", "check"], cwd=project, capture_output=True, text=True,
                         timeout=300, check=False)
    assert "Traceback" not in out.stderr and "internal error" not in out.stdout, out.stderr + out.stdout
    assert out.returncode in (0, 1), out.stderr
    reported = [line for line in out.stdout.splitlines() if line.startswith(("accepted", "REJECTED"))]
    assert len(reported) == len(list((project / "certificates").glob("*.json"))), out.stdout   # every one
    if out.returncode == 0:
        assert doc is not None
    else:
        assert f"certificates/{lemma_id}.json" in out.stdout
    shutil.rmtree(project)
