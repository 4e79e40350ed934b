"""Checks across obligation files: unique ids, dangling references, cycles, compositions."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.spec.obligation import CertificateLemma, load_obligations

from .conftest import VALID, Write

HEAD = """\
[worldmodel]
path = "../worldmodels/cliff.toml"

[objective]
reward = "progress"
horizon = 40
"""


def alignment(id_: str, epsilon: str = "0.5") -> str:
    return (
        f'[[lemma]]\nid = "{id_}"\nkind = "alignment"\nepsilon = "{epsilon}"\n'
        "desirable = ['P<=0 [ F \"x\" ]']\n"
    )


def policy(id_: str, epsilon: str = "0.25") -> str:
    return (
        f'[[lemma]]\nid = "{id_}"\nkind = "policy"\n'
        f'policy = "../policies/cliff-q.json"\nepsilon = "{epsilon}"\n'
    )


def certificate(id_: str, *premises: str) -> str:
    cited = ", ".join(f'"{p}"' for p in premises)
    return f'[[lemma]]\nid = "{id_}"\nkind = "certificate"\nfrom = [{cited}]\n'


def errors_of(paths: list[Path]) -> list[InputError]:
    with pytest.raises((InputError, InputErrors)) as info:
        load_obligations(paths)
    err = info.value
    if isinstance(err, InputErrors):
        return list(err.errors)
    assert isinstance(err, InputError)
    return [err]


def only_error(paths: list[Path]) -> InputError:
    errors = errors_of(paths)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_references_across_files(write: Write) -> None:
    a = write("a.toml", HEAD + alignment("a.al"))
    b = write("b.toml", HEAD + policy("b.pol") + certificate("b.safe", "a.al", "b.pol"))
    files = load_obligations([a, b])
    assert [x.id for f in files for x in f.lemmas] == ["a.al", "b.pol", "b.safe"]
    assert isinstance(files[1].lemmas[1], CertificateLemma)


def test_a_path_given_twice_is_read_once(write: Write) -> None:
    a = write("a.toml", VALID)
    assert len(load_obligations([a, Path.cwd() / a])) == 1


def test_duplicate_ids_across_files_name_both_files(write: Write) -> None:
    a = write("a.toml", HEAD + alignment("same"))
    b = write("b.toml", HEAD + policy("other") + policy("same"))
    err = only_error([a, b])
    assert str(err.where) == 'obligations/b.toml:12:lemma."same"'
    assert 'obligations/a.toml:7:lemma."same"' in err.problem


def test_dangling_reference_names_the_citing_key_and_the_missing_id(write: Write) -> None:
    a = write("a.toml", HEAD + alignment("a.al") + policy("a.pol") + certificate("a.safe", "a.al", "a.poll"))
    err = only_error([a])
    assert str(err.where) == 'obligations/a.toml:17:lemma."a.safe".from[1]'
    assert "'a.poll'" in err.problem and "did you mean 'a.pol'" in err.problem


def test_no_dangling_report_while_another_file_cannot_be_read(write: Write) -> None:
    a = write("a.toml", HEAD + alignment("a.al") + policy("a.pol") + certificate("a.safe", "a.al", "b.pol"))
    b = write("b.toml", "[[lemma]\n")
    [err] = errors_of([a, b])
    assert str(err).startswith("obligations/b.toml:1: not valid TOML")


def test_cycle_names_both_ends(write: Write) -> None:
    a = write("a.toml", HEAD + policy("a.pol") + certificate("a.safe", "b.safe", "a.pol"))
    b = write("b.toml", certificate("b.safe", "a.safe", "a.pol"))
    cycles = [e for e in errors_of([a, b]) if "cycle" in e.problem]
    assert len(cycles) == 1
    [err] = cycles
    assert "'a.safe' -> 'b.safe' -> 'a.safe'" in err.problem
    assert str(err.where) == 'obligations/b.toml:1:lemma."b.safe".from'
    assert 'obligations/a.toml:12:lemma."a.safe"' in err.problem


def test_self_citation_is_a_cycle(write: Write) -> None:
    a = write("a.toml", HEAD + policy("a.pol") + certificate("a.safe", "a.safe", "a.pol"))
    errors = errors_of([a])
    assert any("cites itself" in e.problem and e.where.key == 'lemma."a.safe".from' for e in errors)


def test_certificate_must_cite_one_alignment_and_one_policy(write: Write) -> None:
    a = write(
        "a.toml", HEAD + alignment("a.one") + alignment("a.two") + certificate("a.safe", "a.one", "a.two")
    )
    err = only_error([a])
    assert str(err.where) == 'obligations/a.toml:17:lemma."a.safe".from'
    assert (
        'obligations/a.toml:7:lemma."a.one"' in err.problem
        and 'obligations/a.toml:12:lemma."a.two"' in err.problem
    )


def test_premises_on_different_world_models(write: Write) -> None:
    a = write("a.toml", HEAD + alignment("a.al"))
    b = write(
        "b.toml",
        HEAD.replace("cliff.toml", "other.toml") + policy("b.pol") + certificate("b.s", "a.al", "b.pol"),
    )
    err = only_error([a, b])
    assert str(err.where) == 'obligations/b.toml:12:lemma."b.s".from'
    assert "different world models" in err.problem
    assert "'a.al' (obligations/a.toml:7:lemma.\"a.al\")" in err.problem and "'b.pol'" in err.problem


def test_premises_with_different_objectives(write: Write) -> None:
    a = write("a.toml", HEAD + alignment("a.al"))
    b = write("b.toml", HEAD.replace("40", "41") + policy("b.pol") + certificate("b.s", "a.al", "b.pol"))
    err = only_error([a, b])
    assert "different objectives" in err.problem and "C<=40" in err.problem and "C<=41" in err.problem


def test_same_objective_written_differently_is_the_same(write: Write) -> None:
    a = write("a.toml", HEAD + 'discount = "1"\n' + alignment("a.al"))
    b = write("b.toml", HEAD + "discount = 1.0\n" + policy("b.pol") + certificate("b.s", "a.al", "b.pol"))
    assert len(load_obligations([a, b])) == 2


def test_policy_epsilon_above_alignment_epsilon_names_both_lemmas(write: Write) -> None:
    a = write(
        "a.toml",
        HEAD + alignment("a.al", "1/4") + policy("a.pol", "0.3") + certificate("a.s", "a.al", "a.pol"),
    )
    err = only_error([a])
    assert str(err.where) == 'obligations/a.toml:17:lemma."a.s".from'
    assert "ε_P = 3/10" in err.problem and "ε_A = 1/4" in err.problem
    assert 'lemma."a.al"' in err.problem and 'lemma."a.pol"' in err.problem


def test_equal_epsilons_compose(write: Write) -> None:
    a = write(
        "a.toml",
        HEAD + alignment("a.al", "0.25") + policy("a.pol", "1/4") + certificate("a.s", "a.al", "a.pol"),
    )
    assert len(load_obligations([a])[0].lemmas) == 3


def test_errors_of_every_file_are_reported_together(write: Write) -> None:
    a = write("a.toml", HEAD + alignment("a.al", "-1"))
    b = write("b.toml", HEAD + policy("b.pol", "x"))
    assert [str(e.where) for e in errors_of([a, b])] == [
        'obligations/a.toml:10:lemma."a.al".epsilon',
        'obligations/b.toml:11:lemma."b.pol".epsilon',
    ]
