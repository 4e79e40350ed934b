"""Fuzzing every world-model reader: an input error with a message, or a valid model; nothing else.

Inputs are random bytes and random mutations of valid files (the example models of the project
and of tests/worlds, plus small generated explicit and DRN models): lines deleted, duplicated or
replaced, numbers changed to huge, negative, NaN or garbage values, files cut short. Each example
has a time bound (hypothesis' deadline); a few adversarial files also go through the CLI in a
subprocess whose address space is capped. Hardening issue: "no traceback on any input".
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofs.core.errors import InputError, InputErrors
from proofs.core.model import Mdp
from proofs.worldmodel.load import load_mdp
from proofs.worldmodel.prism_limit import state_limit

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "tests" / "worlds" / "models"

GENERATED_TRA = "mdp\n" + "".join(
    f"{s} {a} {t} {p}\n" for s in range(5) for a in range(2) for t, p in (((s + a + 1) % 5, "0.25"), (s, "0.75"))
)
GENERATED_LAB = "#DECLARATION\ninit goal\n#END\n0 init\n4 goal\n"
GENERATED_DRN = "@type: MDP\n@parameters\n\n@reward_models\ncost\n@nr_states\n3\n@nr_choices\n4\n@model\n" + "".join(
    f"state {s} [{s}/2]{' init' if s == 0 else ''}\n\taction a [1]\n\t\t{(s + 1) % 3} : 1/3\n\t\t{s} : 2/3\n"
    + (f"\taction b [0.5]\n\t\t{s} : [0.5, 1]\n\t\t{(s + 2) % 3} : [0, 0.5]\n" if s == 1 else "")
    for s in range(3)
)


@dataclass(frozen=True)
class Seed:
    """A valid model: its format, its main file's name and every file of it (name -> text)."""

    format: str
    main: str
    files: tuple[tuple[str, str], ...]


def _folder_seed(format: str, folder: Path, main: str) -> Seed:
    files = tuple((p.name, p.read_text()) for p in sorted(folder.iterdir()) if p.is_file())
    return Seed(format, main, files)


SEEDS: dict[str, list[Seed]] = {
    "toml": [Seed("toml", p.name, ((p.name, p.read_text()),))
             for p in (ROOT / "worldmodels" / "cliff.toml", MODELS / "small.toml", MODELS / "credal.toml")],
    "json": [Seed("json", "small.json", (("small.json", (MODELS / "small.json").read_text()),))],
    "explicit": [_folder_seed("explicit", MODELS / "prism_dialect", "model.tra"),
                 _folder_seed("explicit", MODELS / "storm_dialect", "model.tra"),
                 Seed("explicit", "g.tra", (("g.tra", GENERATED_TRA), ("g.lab", GENERATED_LAB)))],
    "drn": [Seed("drn", "rewards.drn", (("rewards.drn", (MODELS / "rewards.drn").read_text()),)),
            Seed("drn", "g.drn", (("g.drn", GENERATED_DRN),))],
    "prism": [Seed("prism", p.name, ((p.name, p.read_text()),))
              for p in (MODELS / "small.nm", ROOT / "worldmodels" / "warehouse.nm")],
}
EXTENSIONS = {"toml": ".toml", "json": ".json", "explicit": ".tra", "drn": ".drn", "prism": ".nm"}
NASTY_NUMBERS = ["1e999999", "-1", "-0.5", "NaN", "nan", "inf", "-inf", "9" * 5000, "1" * 20, "10**10000",
                 "(10**10000)**10000", "1/0", "0/0", "-" * 3000 + "1", "0x10", "1e-4000", "²", "١", "", "\x00",
                 "[0.5, 0.1]", "[", "]", '"', "18446744073709551616", "0.1" + "0" * 4000 + "1", "1_000", "+"]
NUMBER = re.compile(r"\d+(?:\.\d+)?")


@st.composite
def mutated(draw: st.DrawFn, format: str) -> tuple[Seed, str, bytes]:
    """A seed model of `format` and one of its files, mutated: (seed, file name, new content)."""
    seed = draw(st.sampled_from(SEEDS[format]))
    name, text = draw(st.sampled_from(seed.files))
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "replace", "number", "number", "cut", "swap"]))
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "delete" and lines:
            del lines[at]
        elif op == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif op == "swap" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == "replace":
            lines.insert(at, draw(st.text(max_size=40)))
            if len(lines) > at + 1:
                del lines[at + 1]
        elif op == "number":
            joined = "\n".join(lines)
            found = list(NUMBER.finditer(joined))
            if found:
                match = found[draw(st.integers(0, len(found) - 1))]
                new = draw(st.sampled_from(NASTY_NUMBERS) | st.integers(-(10**30), 10**30).map(str))
                joined = joined[: match.start()] + new + joined[match.end():]
            lines = joined.split("\n")
        elif op == "cut":
            joined = "\n".join(lines)
            lines = joined[: draw(st.integers(0, len(joined)))].split("\n")
    return seed, name, "\n".join(lines).encode("utf-8", errors="surrogatepass")


def outcome(path: Path, format: str) -> Mdp | None:
    """Load `path`; a model or None for an input error, whose messages must be readable."""
    try:
        return load_mdp(path, format)
    except (InputError, InputErrors) as exc:
        errors = exc.errors if isinstance(exc, InputErrors) else (exc,)
        assert errors and all(str(e).strip() for e in errors)
        assert all(len(str(e)) < 1500 for e in errors), max(errors, key=lambda e: len(str(e)))
        assert len(errors) <= 200
        assert any(path.name in str(e) or path.stem in str(e) or path.parent.name in str(e) for e in errors), errors
        return None


def check_mutant(seed: Seed, name: str, content: bytes, run: Callable[[Path], None] | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for other, text in seed.files:
            (Path(folder) / other).write_bytes(content if other == name else text.encode())
        path = Path(folder) / seed.main
        result = outcome(path, seed.format)
        if result is not None:
            assert result.n_states >= 1 and len(result.states) == result.n_states


FAST = settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("format", ["toml", "json", "explicit", "drn"])
@FAST
@given(data=st.data())
def test_mutated_models_give_a_model_or_an_input_error(format: str, data: st.DataObject) -> None:
    seed, name, content = data.draw(mutated(format))
    check_mutant(seed, name, content)


@settings(max_examples=15, deadline=15000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_prism_programs_give_a_model_or_an_input_error(data: st.DataObject) -> None:
    pytest.importorskip("stormpy")
    seed, name, content = data.draw(mutated("prism"))
    with state_limit(20_000):  # a mutation may make the state space huge: refused, quickly
        check_mutant(seed, name, content)


@pytest.mark.parametrize("format", ["toml", "json", "explicit", "drn"])
@settings(max_examples=40, deadline=3000)
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_random_bytes_give_an_input_error(format: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"m{EXTENSIONS[format]}"
        path.write_bytes(content)
        outcome(path, format)


# -- a few adversarial files through the CLI, in bounded memory and time ------------------------

DEEP = 100_000
ADVERSARIAL = {
    "header.tra": "1000000000 3 3\n0 0 1 0.5\n0 0 0 0.5\n1 0 1 1\n",
    "index.tra": "mdp\n0 0 4000000000 1\n",
    "number.tra": "mdp\n0 0 0 " + "9" * 100_000 + "\n",
    "count.drn": "@type: MDP\n@nr_states\n1000000000000\n@nr_choices\n1\n@model\nstate 0 init\naction a\n0 : 1\n",
    "nested.toml": "x = " + "[" * DEEP + "]" * DEEP + "\n",
    "nested.json": "[" * DEEP + "]" * DEEP,
    "power.toml": 'initial = "s"\n[states.s.actions.a]\nto = { s = "(10**10000)**10000" }\n',
    "minus.json": '{"initial": "s", "states": {"s": {"actions": {"a": {"to": {"s": "' + "-" * DEEP + '1"}}}}}}',
    "count.nm": "mdp\nmodule m\n x : [0..100000000] init 0;\n [] x < 100000000 -> (x'=x+1);\n"
                " [] x = 100000000 -> true;\nendmodule\n",
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_files_end_in_exit_2_within_bounded_memory_and_time(tmp_path: Path, name: str) -> None:
    if name.endswith(".nm"):
        pytest.importorskip("stormpy")
    (tmp_path / name).write_text(ADVERSARIAL[name])

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    out = subprocess.run([sys.executable, "-m", "proofs", "show", name], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, preexec_fn=cap, env={**os.environ, "PROOFS_MAX_STATES": "10000"})
    assert out.returncode == 2, (out.returncode, out.stderr[-3000:])
    assert "Traceback" not in out.stderr and out.stderr.startswith("error: ") and name in out.stderr
    assert len(out.stderr) < 5000
