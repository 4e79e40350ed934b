"""The reference docs cannot rot: their complete examples run through the real loaders and CLI.

A fenced block is a file of an example project when its first line is a comment
``# file: PATH`` or its info string says ``file=PATH`` (JSON has no comments). Each doc's files
are written into a temporary project beside a copy of the repository's ``worldmodels/`` and
``policies/``, then proved and checked. The key tables of obligations.md are compared with the
keys the obligation reader accepts, and the option tables of cli.md with the commands' options.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.policy.load import load_policy
from proofs.spec.obligation import read_obligation_file, read_settings
from proofs.spec.parse import parse_state_formula
from proofs.worldmodel.load import load_mdp

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
_BLOCK = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_FILE_COMMENT = re.compile(r"^(?:#|//)\s*file:\s*(\S+)")


def blocks(doc: str) -> list[tuple[str, str, str]]:
    """Every fenced block of a doc: (language, rest of the info string, body)."""
    return [(m.group(1), m.group(2).strip(), m.group(3)) for m in _BLOCK.finditer((DOCS / doc).read_text())]


def example_files(doc: str) -> dict[str, str]:
    files = {}
    for _, info, body in blocks(doc):
        named = re.search(r"file=(\S+)", info) or _FILE_COMMENT.match(body)
        if named:
            files[named.group(1)] = body
    return files


def block(doc: str, info: str) -> str:
    (body,) = [b for _, i, b in blocks(doc) if i == info]
    return body


def project(tmp: Path, *docs: str) -> Path:
    for folder in ("worldmodels", "policies"):
        shutil.copytree(ROOT / folder, tmp / folder)
    (tmp / "obligations").mkdir()
    (tmp / "pyproject.toml").write_text("[tool.proofs]\n")
    for doc in docs:
        for name, text in example_files(doc).items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text)
    return tmp


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


def assert_ok(out: subprocess.CompletedProcess[str]) -> None:
    assert out.returncode == 0, out.stdout + out.stderr


# -- obligations.md ------------------------------------------------------------------------------
def table_keys(doc: str, heading: str) -> set[str]:
    """The backticked names in the first column of the first table after `heading`."""
    text = (DOCS / doc).read_text()
    start = text.index(heading + "\n")
    rows = re.search(r"\n(\|.*?)\n\n", text[start:], re.DOTALL)
    assert rows, heading
    return {m.group(1) for line in rows.group(1).splitlines()[2:]
            for m in re.finditer(r"`([^`]+)`", line.split("|")[1])}


def accepted_keys(tmp: Path, table: str, probe: str) -> set[str]:
    """The keys the real reader accepts in a table, from its message about an unknown key."""
    path = tmp / "probe.toml"
    path.write_text(probe)
    try:
        read_obligation_file(path)
    except (InputError, InputErrors) as exc:  # find the message about the probe key
        found = re.search(rf"The keys of {re.escape(table)} are ([^;]+);", str(exc))
        assert found, str(exc)
        return set(found.group(1).split(", "))
    raise AssertionError("the probe key was accepted")


def test_obligations_doc_keys_are_the_readers_keys_and_the_example_uses_them_all(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text("")
    lemma = 'id = "x"\nkind = "{kind}"\nzzz = 1\n'
    probes = {
        "## `[worldmodel]`": ("[worldmodel]", '[worldmodel]\npath = "m.toml"\nzzz = 1\n'),
        "## `[objective]`: the scoring function J": ("[objective]", "[objective]\nzzz = 1\n"),
        '### `kind = "alignment"`': ("an alignment lemma", "[[lemma]]\n" + lemma.format(kind="alignment")),
        '### `kind = "policy"`': ("a policy lemma", "[[lemma]]\n" + lemma.format(kind="policy")),
        '### `kind = "certificate"`': ("a certificate lemma", "[[lemma]]\n" + lemma.format(kind="certificate")),
    }
    common = table_keys("obligations.md", "## `[[lemma]]`: keys of every lemma")
    files = example_files("obligations.md")
    examples = [tomllib.loads(files[name]) for name in ("obligations/cliff-repair.toml", "obligations/cliff-runner.toml")]
    used_lemma_keys = {key for doc in examples for x in doc["lemma"] for key in x}
    for heading, (table, probe) in probes.items():
        documented = table_keys("obligations.md", heading)
        is_lemma = heading.startswith("###")
        assert documented | (common if is_lemma else set()) == accepted_keys(tmp_path, table, probe), heading
        if is_lemma:
            assert documented | common <= used_lemma_keys, heading
    prism_example = tomllib.loads(files["obligations/counter.toml"])
    assert table_keys("obligations.md", "## `[worldmodel]`") <= set(examples[0]["worldmodel"]) | set(
        prism_example["worldmodel"])
    objective_keys = {k for doc in examples for t in ([doc["objective"]] if "reward" in doc["objective"]
                                                      else doc["objective"].values()) for k in t}
    assert table_keys("obligations.md", "## `[objective]`: the scoring function J") <= objective_keys
    settings = table_keys("obligations.md", "## `[tool.proofs]` in `pyproject.toml`")
    (tmp_path / "pyproject.toml").write_text("[tool.proofs]\nzzz = 1\n")
    with pytest.raises(InputError) as raised:
        read_settings(tmp_path / "pyproject.toml")
    found = re.search(r"The keys of \[tool.proofs\] are ([^;]+);", str(raised.value))
    assert found and settings == set(found.group(1).split(", "))
    assert settings == set(tomllib.loads(files["pyproject.toml"])["tool"]["proofs"])


def test_obligations_doc_example_proves_and_checks(tmp_path: Path) -> None:
    root = project(tmp_path, "obligations.md")
    assert_ok(run(root, "prove"))
    checked = run(root, "check", "--json")
    assert_ok(checked)
    assert json.loads(checked.stdout)["accepted"] == 7  # six about the cliff, one about the PRISM counter


# -- policies.md ---------------------------------------------------------------------------------
def test_policies_doc_examples_load_prove_and_share_a_hash(tmp_path: Path) -> None:
    root = project(tmp_path, "policies.md")
    made = subprocess.run([sys.executable, "make_q.py"], cwd=root, capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    cliff = load_mdp(root / "worldmodels" / "cliff.toml")
    for name in example_files("policies.md"):
        if name.startswith("policies/cliff"):
            spec = f"{root / name}:choose" if name.endswith(".py") else root / name
            load_policy(spec, cliff, allow_code=True, horizon=6)
    assert_ok(run(root, "prove", "--allow-code"))
    assert_ok(run(root, "check", "--allow-code"))
    hashes = {i: json.loads((root / "certificates" / f"policies.{i}.json").read_text())["inputs"]["policy"]
              for i in ("walk-steps", "walk-code")}
    assert hashes["walk-steps"] == hashes["walk-code"]  # the doc says so


# -- properties.md -------------------------------------------------------------------------------
def test_properties_doc_reads_each_formula_as_it_says() -> None:
    lines = [line for line in block("properties.md", "parse-examples").splitlines() if line.strip()]
    assert len(lines) >= 5
    for line in lines:
        left, right = line.split("==")
        if "U" in left:
            left, right = f"P>=0 [ {left.strip()} ]", f"P>=0 [ {right.strip()} ]"
            from proofs.spec.parse import parse_constraint as parse
        else:
            parse = parse_state_formula  # type: ignore[assignment]
        assert parse(left.strip(), "doc") == parse(right.strip(), "doc"), line  # type: ignore[arg-type]


def test_properties_doc_example_proves(tmp_path: Path) -> None:
    root = project(tmp_path, "properties.md")
    out = run(root, "prove", "--json")
    assert_ok(out)
    (result,) = json.loads(out.stdout)["results"]
    assert result["status"] == "proved" and len(result["values"]["constraints"]) == 8


# -- worldmodel-format.md --------------------------------------------------------------------------
def test_worldmodel_doc_examples_load_and_the_short_cliff_is_the_cliff(tmp_path: Path) -> None:
    from tests.unit.worldmodel.helpers import signature

    root = project(tmp_path, "worldmodel-format.md")
    models = {name: load_mdp(root / name) for name in example_files("worldmodel-format.md")}
    assert len(models) == 2
    assert signature(models["worldmodels/cliff-short.toml"]) == signature(load_mdp(ROOT / "worldmodels" / "cliff.toml"))


# -- cli.md ----------------------------------------------------------------------------------------
def cli_project(tmp: Path) -> Path:
    root = project(tmp)
    for name in ("cliff.toml", "cliff-careful.toml"):
        shutil.copy(ROOT / "obligations" / name, root / "obligations" / name)
    return root


def test_cli_doc_session_exits_as_documented(tmp_path: Path) -> None:
    root = cli_project(tmp_path)
    python = sys.executable
    for line in block("cli.md", "session").splitlines():
        command, _, comment = line.partition("  #")
        expected = re.match(r"\s*exit (\d)", comment)
        shell = re.sub(r"^proofs ", f"'{python}' -m proofs ", command.strip())
        out = subprocess.run(["bash", "-c", shell], cwd=root, capture_output=True, text=True, timeout=600, check=False)
        assert out.returncode == (int(expected.group(1)) if expected else 0), (line, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr, out.stderr


def _options(command: object) -> set[str]:
    """The option names of a (typer's click) command, without --help."""
    return {o for p in command.params for o in p.opts if o.startswith("-") and o != "--help"}


def test_cli_doc_lists_every_option_of_every_command() -> None:
    import typer

    from proofs.cli import app

    group = typer.main.get_command(app)
    text = (DOCS / "cli.md").read_text()
    sections = dict(re.findall(r"^### proofs ([a-z ]+?)(?: [A-Z_]+(?: …)?)?\n(.*?)(?=^### |\Z)", text, re.MULTILINE | re.DOTALL))
    commands = {name: group.commands[name] for name in group.commands if name != "import"}  # type: ignore[attr-defined]
    commands["import gym"] = group.commands["import"].commands["gym"]  # type: ignore[attr-defined]
    assert set(commands) <= set(sections), sorted(set(commands) - set(sections))
    for name, command in commands.items():
        documented = {o for row in re.findall(r"^\| `([^|]*)\|", sections[name], re.MULTILINE)
                      for o in re.findall(r"(--?[a-z][a-z-]*)", row)}
        assert documented == _options(command), f"document the options of `proofs {name}` in docs/cli.md"
    assert _options(group) == {"--version"} and "### proofs --version" in text


def test_cli_doc_json_shapes_are_the_commands(tmp_path: Path) -> None:
    root = cli_project(tmp_path)
    outputs = {
        "prove": run(root, "prove", "--json"),
        "check": run(root, "check", "--json"),
        "eval": run(root, "eval", "worldmodels/cliff.toml", "--objective", "progress,horizon=6", "--policy",
                    "policies/cliff-run.csv", "--property", 'P<=0.01 [ F "fatal" ]', "--json"),
        "show": run(root, "show", "worldmodels/cliff.toml", "--json"),
    }
    for name, out in outputs.items():
        assert_ok(out)
        actual, documented = json.loads(out.stdout), json.loads(block("cli.md", f"output={name}"))
        assert set(actual) == set(documented), name
        for key in ("results", "checked", "constraints"):
            if key in documented:
                assert set(actual[key][0]) == set(documented[key][0]), (name, key)
    shown, documented = json.loads(outputs["show"].stdout), json.loads(block("cli.md", "output=show"))
    assert shown == documented
    evaluated = json.loads(outputs["eval"].stdout)
    assert evaluated == json.loads(block("cli.md", "output=eval"))


# -- README ----------------------------------------------------------------------------------------
def test_readme_links_every_reference_doc() -> None:
    readme = (ROOT / "README.md").read_text()
    for doc in sorted(DOCS.glob("*.md")):
        assert f"(docs/{doc.name})" in readme, f"README.md does not link docs/{doc.name}"
    assert "kept beside the repository" not in readme
