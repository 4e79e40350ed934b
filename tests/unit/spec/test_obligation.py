"""Reading one obligation file: the types it gives, and every per-file error with file and key."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.core.formula import Comparison, Eventually, Label, ProbabilityConstraint, RewardConstraint
from proofs.core.objective import Objective
from proofs.spec.obligation import (
    AlignmentLemma,
    CertificateLemma,
    Expect,
    PolicyLemma,
    read_obligation_file,
)

from .conftest import VALID, Write


def errors_of(path: Path) -> list[InputError]:
    with pytest.raises((InputError, InputErrors)) as info:
        read_obligation_file(path)
    err = info.value
    if isinstance(err, InputErrors):
        return list(err.errors)
    assert isinstance(err, InputError)
    return [err]


def only_error(path: Path) -> InputError:
    errors = errors_of(path)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_the_spec_example_reads_into_frozen_types(write: Write, project: Path) -> None:
    ob = read_obligation_file(write("cliff.toml", VALID))
    assert ob.path == (project / "obligations/cliff.toml").resolve()
    assert ob.worldmodel_path == (project / "worldmodels/cliff.toml").resolve()
    assert ob.objective == Objective("progress", 40, Fraction(1))
    alignment, policy, certificate = ob.lemmas
    assert isinstance(alignment, AlignmentLemma)
    assert alignment == AlignmentLemma(
        "cliff.alignment",
        Fraction(1, 2),
        (
            ProbabilityConstraint(Comparison.LE, Fraction(1, 100), Eventually(Label("fatal"))),
            RewardConstraint("harm", Comparison.LE, Fraction(1, 10)),
        ),
        Expect.PROVED,
        False,
        None,
        where=alignment.where,
        desirable_where=alignment.desirable_where,
    )
    assert (
        isinstance(policy, PolicyLemma)
        and policy.policy_path == (project / "policies/cliff-q.json").resolve()
    )
    assert policy.epsilon == Fraction(1, 4) and policy.expect is Expect.PROVED
    assert isinstance(certificate, CertificateLemma) and certificate.premises == (
        "cliff.alignment",
        "cliff.policy",
    )
    assert [x.kind for x in ob.lemmas] == ["alignment", "policy", "certificate"]


def test_lemmas_know_their_file_line_and_key(write: Write) -> None:
    alignment, policy, _ = read_obligation_file(write("cliff.toml", VALID)).lemmas
    assert isinstance(alignment, AlignmentLemma)
    assert str(alignment.where) == 'obligations/cliff.toml:9:lemma."cliff.alignment"'
    assert str(policy.where) == 'obligations/cliff.toml:15:lemma."cliff.policy"'
    assert [str(w) for w in alignment.desirable_where] == [
        f'obligations/cliff.toml:13:lemma."cliff.alignment".desirable[{i}]' for i in (0, 1)
    ]


def test_locate_top_level_keys(write: Write) -> None:
    ob = read_obligation_file(write("cliff.toml", VALID))
    assert str(ob.locate("objective.reward")) == "obligations/cliff.toml:5:objective.reward"


@pytest.mark.parametrize("written", ['"0.1"', "0.1", '"1/10"', '"1e-1"', "1_0e-2"])
def test_numbers_stay_exact(write: Write, written: str) -> None:
    ob = read_obligation_file(write("a.toml", VALID.replace('epsilon = "0.5"', f"epsilon = {written}")))
    assert isinstance(ob.lemmas[0], AlignmentLemma)
    assert ob.lemmas[0].epsilon == Fraction(1, 10)


def test_optional_keys(write: Write) -> None:
    text = VALID.replace('epsilon = "0.5"', 'epsilon = 0\nexpect = "refuted"\nmargin = true\nengine = "lp"')
    text = text.replace('epsilon = "0.25"', 'epsilon = 0\nexpect = "unknown"')
    alignment, policy, _ = read_obligation_file(write("a.toml", text)).lemmas
    assert isinstance(alignment, AlignmentLemma) and isinstance(policy, PolicyLemma)
    assert (alignment.epsilon, alignment.expect, alignment.margin, alignment.engine) == (
        Fraction(0),
        Expect.REFUTED,
        True,
        "lp",
    )
    assert policy.expect is Expect.UNKNOWN


def test_geometric_horizon(write: Write) -> None:
    text = VALID.replace("horizon = 40", 'horizon = "geometric"').replace('discount = "1"', "discount = 0.95")
    ob = read_obligation_file(write("a.toml", text))
    assert ob.objective == Objective("progress", None, Fraction(19, 20))


def test_finite_horizon_discount_defaults_to_one(write: Write) -> None:
    ob = read_obligation_file(write("a.toml", VALID.replace('discount = "1"\n', "")))
    assert ob.objective == Objective("progress", 40, Fraction(1))


def test_python_callable_policy_is_kept_as_a_reference(write: Write) -> None:
    ob = read_obligation_file(
        write("a.toml", VALID.replace('"../policies/cliff-q.json"', '"mypkg.policies:act"'))
    )
    assert isinstance(ob.lemmas[1], PolicyLemma) and ob.lemmas[1].policy_path == "mypkg.policies:act"


def test_certificate_only_file_needs_no_model(write: Write) -> None:
    ob = read_obligation_file(
        write("a.toml", '[[lemma]]\nid = "x"\nkind = "certificate"\nfrom = ["a", "b"]\n')
    )
    assert ob.worldmodel_path is None and ob.objective is None


# -- one error per case, each naming the file and the key ---------------------------------------
A = 'lemma."cliff.alignment"'
P = 'lemma."cliff.policy"'
S = 'lemma."cliff.safe"'


@pytest.mark.parametrize(
    ("old", "new", "key", "line", "words"),
    [
        ('epsilon = "0.5"', 'epsilon = "-0.5"', f"{A}.epsilon", 12, "≥ 0"),
        ('epsilon = "0.5"', 'epsilon = "half"', f"{A}.epsilon", 12, "'half' is not a number"),
        ('epsilon = "0.5"', "epsilon = true", f"{A}.epsilon", 12, "boolean"),
        ('epsilon = "0.5"', "epsilon = inf", f"{A}.epsilon", 12, "finite"),
        ('epsilon = "0.5"', "epsilon = [1]", f"{A}.epsilon", 12, "an array"),
        ('epsilon = "0.5"\n', "", f"{A}.epsilon", 9, "missing key 'epsilon'"),
        ('epsilon = "0.25"', 'epsilon = "-1/4"', f"{P}.epsilon", 19, "≥ 0"),
        ("horizon = 40", "horizon = 0", "objective.horizon", 6, "integer ≥ 1"),
        ("horizon = 40", 'horizon = "forever"', "objective.horizon", 6, "'forever'"),
        ("horizon = 40", "horizon = 40.0", "objective.horizon", 6, "integer ≥ 1"),
        ("horizon = 40", "horizon = true", "objective.horizon", 6, "boolean"),
        ("horizon = 40\n", "", "objective.horizon", 4, "missing key 'horizon'"),
        ('discount = "1"', 'discount = "1.5"', "objective.discount", 7, "(0, 1]"),
        ('discount = "1"', "discount = 0", "objective.discount", 7, "(0, 1]"),
        (
            'horizon = 40\ndiscount = "1"',
            'horizon = "geometric"',
            "objective.discount",
            4,
            "missing key 'discount'",
        ),
        (
            'horizon = 40\ndiscount = "1"',
            'horizon = "geometric"\ndiscount = 1',
            "objective.discount",
            7,
            "(0, 1)",
        ),
        ('reward = "progress"', 'reward = ""', "objective.reward", 5, "non-empty string"),
        (
            'reward = "progress"',
            'reward = "progress"\nrewrad = 1',
            "objective.rewrad",
            6,
            "did you mean 'reward'",
        ),
        ('"../worldmodels/cliff.toml"', '"../worldmodels/nope.toml"', "worldmodel.path", 2, "no file"),
        ('cliff.toml"', 'cliff.toml"\nfile = "x"', "worldmodel.file", 3, "unknown key 'file'"),
        ('"../policies/cliff-q.json"', '"../policies/nope.json"', f"{P}.policy", 18, "no file"),
        ('policy = "../policies/cliff-q.json"\n', "", f"{P}.policy", 15, "missing key 'policy'"),
        ('kind = "policy"', 'kind = "polcy"', f"{P}.kind", 17, "did you mean 'policy'"),
        ('kind = "policy"\n', "", f"{P}.kind", 15, "missing key 'kind'"),
        ('id = "cliff.policy"\n', "", "lemma[1].id", 15, "missing key 'id'"),
        ('id = "cliff.policy"', 'id = "../../etc/passwd"', "lemma[1].id", 16, "expected a lemma id"),
        ('epsilon = "0.5"', 'epsilon = "0.5"\nmargni = true', f"{A}.margni", 13, "did you mean 'margin'"),
        ('epsilon = "0.5"', 'epsilon = "0.5"\nmargin = "yes"', f"{A}.margin", 13, "true or false"),
        (
            'epsilon = "0.5"',
            'epsilon = "0.5"\nexpect = "proven"',
            f"{A}.expect",
            13,
            "proved, refuted or unknown",
        ),
        ('epsilon = "0.5"', 'epsilon = "0.5"\npolicy = "x"', f"{A}.policy", 13, "unknown key 'policy'"),
        ('epsilon = "0.25"', 'epsilon = "0.25"\ndesirable = []', f"{P}.desirable", 20, "unknown key"),
        ("desirable = [", "desirable = [3, ", f"{A}.desirable[0]", 13, "expected a constraint in a string"),
        ("desirable = [", "desirable = {} #", f"{A}.desirable", 13, "non-empty array"),
        ("desirable = [", "desirable = [] #", f"{A}.desirable", 13, "non-empty array"),
        ("'R{\"harm\"}<=0.1 [ C ]'", "'R{\"harm\"}<=0.1 [ C'", f"{A}.desirable[1]", 13, "at column 19"),
        (
            'from = ["cliff.alignment", "cliff.policy"]',
            'from = ["cliff.alignment"]',
            f"{S}.from",
            24,
            "two different lemma ids",
        ),
        (
            '"cliff.alignment", "cliff.policy"]',
            '"cliff.policy", "cliff.policy"]',
            f"{S}.from",
            24,
            "two different lemma ids",
        ),
        ('[[lemma]]\nid = "cliff.safe"', '[[lemma]]\nid = "cliff.policy"', P, 21, "declared twice"),
        ("[worldmodel]", "lemmas = 1\n[worldmodel]", "lemmas", 1, "did you mean 'lemma'"),
    ],
)
def test_each_error_names_file_line_key_and_fix(
    write: Write, old: str, new: str, key: str, line: int, words: str
) -> None:
    assert old in VALID
    err = only_error(write("bad.toml", VALID.replace(old, new, 1)))
    assert str(err.where) == f"obligations/bad.toml:{line}:{key}"
    assert str(err).startswith(f"obligations/bad.toml:{line}:{key}: ")
    assert words in err.problem
    assert err.fix


def test_duplicate_id_in_one_file_names_both_places(write: Write) -> None:
    err = only_error(write("bad.toml", VALID.replace('id = "cliff.safe"', 'id = "cliff.policy"')))
    assert 'obligations/bad.toml:15:lemma."cliff.policy"' in err.problem
    assert err.where.line == 21


def test_missing_tables_are_reported(write: Write) -> None:
    text = VALID.split("[[lemma]]", 1)[1]
    errors = errors_of(write("bad.toml", "[[lemma]]" + text))
    assert [str(e.where) for e in errors] == [
        "obligations/bad.toml:worldmodel",
        "obligations/bad.toml:objective",
    ]


def test_toml_syntax_error_has_a_line(write: Write) -> None:
    err = only_error(write("bad.toml", VALID.replace('epsilon = "0.25"', "epsilon = = 1")))
    assert err.where.line == 19
    assert str(err).startswith("obligations/bad.toml:19: not valid TOML")


def test_file_without_lemmas(write: Write) -> None:
    err = only_error(write("bad.toml", VALID.split("[[lemma]]")[0]))
    assert str(err.where) == "obligations/bad.toml:lemma" and "no lemma" in err.problem


def test_lemma_that_is_not_a_table(write: Write) -> None:
    err = only_error(write("bad.toml", "lemma = [1]\n"))
    assert str(err.where) == "obligations/bad.toml:lemma[0]"


def test_unreadable_file_is_an_input_error(project: Path) -> None:
    err = only_error(Path("obligations/missing.toml"))
    assert str(err).startswith("obligations/missing.toml: cannot read")


def test_every_problem_of_a_file_is_reported_at_once(write: Write) -> None:
    text = (
        VALID.replace('epsilon = "0.5"', 'epsilon = "-1"')
        .replace("horizon = 40", "horizon = -3")
        .replace('kind = "policy"', 'kind = "polcy"')
        .replace('"cliff.alignment", "cliff.policy"]', '"x"]')
        .replace("[worldmodel]", 'title = "cliff"\n[worldmodel]')
    )
    errors = errors_of(write("bad.toml", text))
    assert [e.where.key for e in errors] == [
        "title",
        "objective.horizon",
        f"{A}.epsilon",
        f"{P}.kind",
        f"{S}.from",
    ]
    assert all(str(e).startswith("obligations/bad.toml:") for e in errors)


def test_a_lemma_without_id_still_reports_its_other_problems(write: Write) -> None:
    text = VALID.replace('id = "cliff.policy"\n', "").replace('epsilon = "0.25"', 'epsilon = "-1"')
    assert [e.where.key for e in errors_of(write("bad.toml", text))] == ["lemma[1].id", "lemma[1].epsilon"]
