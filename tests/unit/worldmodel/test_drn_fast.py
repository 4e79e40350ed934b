"""The vectorised DRN reader (`drn_fast`) gives exactly the careful reader's model, or steps aside."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofs.core.errors import InputError, InputErrors
from proofs.core.model import Mdp, encode
from proofs.core.numbers import Rationals
from proofs.worldmodel import drn, drn_fast
from proofs.worldmodel.drn import read_drn_careful
from proofs.worldmodel.load import load_mdp

ROOT = Path(__file__).resolve().parents[3]


def rationals_equal(a: Rationals, b: Rationals) -> bool:
    return a.num.dtype == b.num.dtype and a.den.dtype == b.den.dtype and bool(
        np.array_equal(a.num, b.num) and np.array_equal(a.den, b.den))


def assert_identical(fast: Mdp, slow: Mdp) -> None:
    assert fast.states == slow.states and fast.action_names == slow.action_names
    for name in ("choice_start", "choice_action", "row_start", "target", "initial_states"):
        x, y = getattr(fast, name), getattr(slow, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert (fast.probability is None) == (slow.probability is None)
    if fast.probability is not None and slow.probability is not None:
        assert rationals_equal(fast.probability, slow.probability)
    assert (fast.interval is None) == (slow.interval is None)
    if fast.interval is not None and slow.interval is not None:
        assert all(rationals_equal(x, y) for x, y in zip(fast.interval, slow.interval))
    assert list(fast.rewards) == list(slow.rewards)
    assert all(rationals_equal(fast.rewards[k], slow.rewards[k]) for k in fast.rewards)
    assert list(fast.labels) == list(slow.labels)
    assert all(np.array_equal(fast.labels[k], slow.labels[k]) for k in fast.labels)
    assert rationals_equal(fast.initial_probability, slow.initial_probability)
    assert fast.source == slow.source and dict(fast.constants) == dict(slow.constants)
    assert encode(fast) == encode(slow)


def both(path: Path) -> tuple[Mdp | None, Mdp]:
    return drn_fast.read_drn_fast(path), read_drn_careful(path)


# -- generated DRN texts -------------------------------------------------------------------------
_NUMBERS = st.sampled_from(["1/10", "0.25", "1/3", "2/6", "0", "1", "0.5", "+0.50", "1e-1", "007/10", ".5",
                            "3.", "123456789012345678/1000000000000000000", "1/123456789012345678901"])
_LABELS = st.sampled_from(["init", "goal", "fatal", '"with space"', '"init"', "a:b", "x]y", '"q"z'])
_ACTIONS = st.sampled_from(["go", "stay", "__NOLABEL__", "", "0", "1", "a[b", "act:x"])
_INDENT = st.sampled_from(["", " ", "\t", "\t\t", "  "])


@st.composite
def drn_texts(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 6))
    n_rewards = draw(st.integers(0, 3))
    interval = draw(st.booleans())
    lines = ["// generated", "@type: MDP", f"@value_type: {'interval' if interval else 'rational'}", "@parameters", ""]
    lines += ["@reward_models", " ".join(f"r{i}" for i in range(draw(st.integers(0, n_rewards))))]
    body: list[str] = []
    n_choices = 0
    init_done = False
    for s in range(n):
        state_rewards = draw(st.sampled_from(["", *(["[" + ", ".join(draw(_NUMBERS) for _ in range(n_rewards)) + "]"]
                                                     if n_rewards else [])]))
        labels = draw(st.lists(_LABELS, max_size=3))
        if s == n - 1 and not init_done or draw(st.booleans()) and s < 2:
            labels.append("init")
        init_done |= "init" in labels
        body.append(" ".join(x for x in (f"state {s}", state_rewards, *labels) if x))
        if draw(st.booleans()):
            body.append("//[ a comment:\twith, [things] ]")
        for _ in range(draw(st.integers(1, 3))):
            n_choices += 1
            name = draw(_ACTIONS)
            rewards = ("[" + ", ".join(draw(_NUMBERS) for _ in range(draw(st.integers(1, n_rewards)))) + "]"
                       if n_rewards and draw(st.booleans()) else "")
            body.append(draw(_INDENT) + " ".join(x for x in ("action", name, rewards) if x))
            targets = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
            weights = [Fraction(1, len(targets))] * len(targets)
            for t, p in zip(targets, weights):
                if interval and draw(st.booleans()):
                    value = f"[{p / 2}, {min(Fraction(1), p * 2)}]" if draw(st.booleans()) else f"[ {p} ,{p}]"
                else:
                    value = draw(st.sampled_from([str(p), f"{p}", f"{p.numerator} / {p.denominator}"])) \
                        if p.denominator != 1 else draw(st.sampled_from(["1", "1.0", "2/2"]))
                sep = draw(st.sampled_from([" : ", ":", "\t:\t", " :"]))
                body.append(draw(_INDENT) + f"{t}{sep}{value}")
        if draw(st.integers(0, 5)) == 0:
            body.append("")
    lines += ["@nr_states", str(n), "@nr_choices", str(n_choices), "@model", *body]
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=drn_texts())
def test_fast_path_equals_the_careful_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.drn"
    path.write_text(text, encoding="utf-8")
    try:
        slow = read_drn_careful(path)
    except (InputError, InputErrors):
        assert drn_fast.read_drn_fast(path) is None  # every error is left to the careful reader
        return
    fast = drn_fast.read_drn_fast(path)
    assert fast is not None  # every layout generated here is one the fast path reads
    assert_identical(fast, slow)
    assert_identical(load_mdp(path), slow)


def test_plain_files_take_the_fast_path(tmp_path: Path) -> None:
    text = ("@type: MDP\n@value_type: rational-interval\n@parameters\n\n@reward_models\ncost time\n@nr_states\n2\n"
            "@nr_choices\n3\n@model\nstate 0 [1, 1/2] init \"my label\" goal\n\taction go [0, 2]\n\t\t0 : [1/10, 1/2]\n"
            "\t\t1 : [0.5, 0.9]\n\taction __NOLABEL__\n\t\t1 : 1\nstate 1 [0] init\n\taction stay [1/3, 0.25]\n"
            "\t\t1 : 1\n")
    path = tmp_path / "m.drn"
    path.write_text(text)
    fast, slow = both(path)
    assert fast is not None
    assert_identical(fast, slow)
    assert fast.action_names == ("go", "1", "stay") and list(fast.labels) == ["init", "my label", "goal"]


def test_a_last_line_of_whitespace_alone(tmp_path: Path) -> None:
    # the last line, without its newline, arrives as a piece of its own with no token in it
    path = tmp_path / "m.drn"
    path.write_text("@type: MDP\n@value_type: rational\n@parameters\n\n@reward_models\n\n@nr_states\n1\n"
                    "@nr_choices\n1\n@model\nstate 0 init\n\taction a\n\t\t0 : 1\n\t")
    fast, slow = both(path)
    assert fast is not None
    assert_identical(fast, slow)


def drn_files() -> list[Path]:
    return sorted(p for p in (ROOT / "tests").rglob("*.drn"))


@pytest.mark.parametrize("path", drn_files(), ids=lambda p: p.name)
def test_repository_drn_files(path: Path) -> None:
    fast, slow = both(path)
    assert fast is not None
    assert_identical(fast, slow)


def test_stormpy_example_drn_files() -> None:
    stormpy = pytest.importorskip("stormpy")
    root = Path(stormpy.__file__).parent / "examples" / "files"
    for path in sorted(root.rglob("*.drn")):
        try:
            slow = read_drn_careful(path)
        except (InputError, InputErrors):
            assert drn_fast.read_drn_fast(path) is None
            continue
        fast = drn_fast.read_drn_fast(path)
        if fast is not None:
            assert_identical(fast, slow)


# -- errors keep the careful reader's messages --------------------------------------------------
HEADER = "@type: MDP\n@parameters\n\n@reward_models\n\n@nr_states\n2\n@nr_choices\n2\n@model\n"
BROKEN = {
    "sum": (HEADER + "state 0 init\n action a\n  0 : 1/2\n  1 : 1/4\nstate 1\n action b\n  1 : 1\n", "sum to 3/4"),
    "successor": (HEADER + "state 0 init\n action a\n  7 : 1\nstate 1\n action b\n  1 : 1\n", "does not exist"),
    "order": (HEADER + "state 0 init\n action a\n  0 : 1\nstate 2\n action b\n  1 : 1\n", "expected state 1"),
    "count": (HEADER.replace("@nr_states\n2", "@nr_states\n3") + "state 0 init\n action a\n  0 : 1\nstate 1\n"
              " action b\n  1 : 1\n", "declares 3"),
    "number": (HEADER + "state 0 init\n action a\n  0 : x\nstate 1\n action b\n  1 : 1\n", "m.drn:13"),
    "interval": (HEADER + "state 0 init\n action a\n  0 : [0.1 0.2]\nstate 1\n action b\n  1 : 1\n", "interval"),
    "transition first": (HEADER + "state 0 init\n  0 : 1\n action a\nstate 1\n action b\n  1 : 1\n", "first action"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_errors_are_the_careful_readers(tmp_path: Path, case: str) -> None:
    text, expected = BROKEN[case]
    path = tmp_path / "m.drn"
    path.write_text(text)
    with pytest.raises((InputError, InputErrors)) as careful:
        read_drn_careful(path)
    with pytest.raises((InputError, InputErrors)) as loaded:
        load_mdp(path)
    assert str(loaded.value) == str(careful.value) and expected in str(loaded.value)
    assert drn_fast.read_drn_fast(path) is None


# -- a medium file goes the fast way -------------------------------------------------------------
def test_medium_file_is_read_by_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    out = ["@type: MDP", "@value_type: rational-interval", "@parameters", "", "@reward_models", "r",
           "@nr_states", str(n), "@nr_choices", str(2 * n), "@model"]
    for s in range(n):
        out.append(f"state {s}{' init' if s == 0 else ''}{' goal' if s % 97 == 0 else ''}")
        for a in range(2):
            t = rng.choice(n, size=2, replace=False)
            out.append(f"\taction a{a} [{s % 7}/{a + 3}]")
            out.append(f"\t\t{t[0]} : [{1 + s % 3}/10, 0.7]")
            out.append(f"\t\t{t[1]} : 0.5")
    path = tmp_path / "medium.drn"
    path.write_text("\n".join(out) + "\n")

    def refuse(path: Path) -> Mdp:
        raise AssertionError("the careful reader was used")

    monkeypatch.setattr(drn, "read_drn_careful", refuse)
    mdp = load_mdp(path)
    assert mdp.n_states == n and mdp.n_choices == 2 * n and mdp.is_credal
    assert mdp.interval is not None and mdp.interval[0][0] in {Fraction(1, 10), Fraction(2, 10), Fraction(3, 10)}
