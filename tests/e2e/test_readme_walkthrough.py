"""The README's walkthrough runs as written: from the failing FrozenLake reward to the certified
Q-learning policy, with its pictures and the HTML report; and every picture the README shows exists."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def walkthrough_commands() -> list[str]:
    section = README[README.index("### Walkthrough: from a failing reward to a certified policy"):]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the walkthrough has no sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def as_run_here(command: str) -> list[str]:
    """`make prove` is the environment's set-up and then `proofs prove`; `.venv/bin/proofs` is the CLI."""
    if command == "make prove":
        return [sys.executable, "-m", "proofs", "prove"]
    words = shlex.split(command)
    assert words[0] == ".venv/bin/proofs", command
    return [sys.executable, "-m", "proofs", *words[1:]]


def test_the_walkthrough_reaches_the_certificate(tmp_path):
    for part in ("worldmodels", "policies", "obligations", "certificates"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    commands = walkthrough_commands()
    assert commands[0] == "make prove" and any("frozenlake.q-safe" in c for c in commands)
    for command in commands:
        run = subprocess.run(as_run_here(command), cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
    for made in ("lake-hack.png", "lake-policy.png", "report/index.html"):
        assert (tmp_path / made).is_file(), made
    safe = subprocess.run([sys.executable, "-m", "proofs", "explain", "frozenlake.q-safe"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert "PROVED" in safe.stdout.splitlines()[0], safe.stdout


def test_every_picture_the_readme_shows_exists():
    pictures = re.findall(r'<img src="([^"]+)"', README) + re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(pictures) >= 3
    for picture in pictures:
        assert (ROOT / picture).is_file(), picture
