"""End-to-end: bad files and bad paths end in exit code 2 with file, problem and fix, never a traceback.

Each test names the defect it guards (hardening issue, items 5, 6 and 10). Unreadable files are
made unreadable for real: as root (where chmod 000 does not stop reads) the CLI runs as the
unprivileged user 65534 on a copy of the project it may read; otherwise as the current user.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import proofs.report.show
from proofs.cli import main

ROOT = Path(__file__).resolve().parents[2]
NOBODY = "65534"


def unprivileged(command: list[str]) -> tuple[list[str], dict[str, object]]:
    """`command` run as the user 65534 when we are root (util-linux's setpriv when present, else
    subprocess's own user switch), unchanged otherwise (chmod 000 then stops us already)."""
    if os.geteuid() != 0:
        return command, {}
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, "--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", *command], {}
    return command, {"user": int(NOBODY), "group": int(NOBODY), "extra_groups": []}


def run(*args: str, cwd: Path, as_nobody: bool = False, memory: int | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess (as the unprivileged user when asked; with a capped address space)."""
    def cap() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    command, options = [sys.executable, "-m", "proofs", *args], dict[str, object]()
    if as_nobody:
        command, options = unprivileged(command)
    out: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        command, cwd=cwd, capture_output=True, text=True, timeout=300, preexec_fn=cap,
        env={**os.environ, "HOME": str(cwd), **(env or {})}, **options)
    return out


def no_traceback(out: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr[-3000:]
    return out.stdout + out.stderr


@pytest.fixture
def project() -> Iterator[Path]:
    """A copy of the cliff project (obligations, model, policies, certificates) the unprivileged
    user may read and write: under the system's temporary folder, not pytest's private one."""
    folder = Path(tempfile.mkdtemp(prefix="proofs-e2e-"))
    try:
        for name in ("worldmodels", "policies", "obligations", "certificates"):
            shutil.copytree(ROOT / name, folder / name)
        for extra in (folder / "obligations").glob("warehouse*.toml"):
            extra.unlink()
        for extra in (folder / "certificates").glob("warehouse*"):
            extra.unlink()
        (folder / "pyproject.toml").write_text('[tool.proofs]\nobligations = "obligations"\n'
                                               'certificates = "certificates"\n')
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o777 if path.is_dir() else 0o666)
        shutil.rmtree(folder)


# -- unreadable files and folders (item 5) ------------------------------------------------------

@pytest.mark.parametrize("name", ["worldmodels/cliff.toml", "policies/cliff-walk.json", "obligations/cliff.toml"])
def test_an_unreadable_input_is_exit_2_for_prove_and_no_traceback_anywhere(project: Path, name: str) -> None:
    """Bug: an unreadable model made `check` end in a PermissionError traceback."""
    (project / name).chmod(0)
    out = run("prove", cwd=project, as_nobody=True)
    text = no_traceback(out)
    assert out.returncode == 2 and name in text and "Permission denied" in text, text[-2000:]
    for command in (["check"], ["explain", "cliff.alignment"], ["explain", "cliff.walk-policy"]):
        out = run(*command, cwd=project, as_nobody=True)
        text = no_traceback(out)
        assert out.returncode != 0 or name.startswith("policies"), (command, text[-2000:])
        if command == ["check"]:  # an unreadable input is bad input (exit 2), not a rejection (exit 1)
            assert name in text and out.returncode == 2, text[-2000:]


def test_an_unreadable_certificate_is_no_traceback(project: Path) -> None:
    """Bug: `check`, `explain` and `prove` ended in a PermissionError traceback on it."""
    (project / "certificates" / "cliff.alignment.json").chmod(0)
    for command in (["check"], ["explain", "cliff.alignment"]):
        out = run(*command, cwd=project, as_nobody=True)
        text = no_traceback(out)
        assert out.returncode == 2 and "cliff.alignment.json" in text, (command, text[-2000:])
    no_traceback(run("prove", "obligations/cliff.toml", cwd=project, as_nobody=True))


def test_a_read_only_certificates_folder_is_exit_2_naming_the_folder(project: Path) -> None:
    """Bug: `prove` into a read-only certificates/ ended in a PermissionError traceback naming a
    temporary file."""
    (project / "certificates").chmod(0o555)
    out = run("prove", "--force", "obligations/cliff.toml", cwd=project, as_nobody=True)
    text = no_traceback(out)
    assert out.returncode == 2, text[-2000:]
    assert "certificates: cannot create a file in this folder (Permission denied)" in text
    assert "Make the folder writable" in text


# -- symbolic link loops (item 5) ---------------------------------------------------------------

def test_a_model_path_that_is_a_symlink_loop_is_named_as_such(tmp_path: Path) -> None:
    """Bug: a link loop was reported as a file that does not exist."""
    (tmp_path / "loop.toml").symlink_to("loop.toml")
    out = run("show", "loop.toml", cwd=tmp_path)
    text = no_traceback(out)
    assert out.returncode == 2 and "loop.toml: the path is a loop of symbolic links" in text


def test_an_obligation_naming_a_symlink_loop_is_exit_2(project: Path) -> None:
    """Bug: an obligation whose worldmodel path is a link loop made `prove` end in a RuntimeError
    traceback ("Symlink loop from ...")."""
    (project / "worldmodels" / "loop.toml").symlink_to("loop.toml")
    obligation = project / "obligations" / "cliff.toml"
    obligation.write_text(obligation.read_text().replace("../worldmodels/cliff.toml", "../worldmodels/loop.toml"))
    for command in (["prove"], ["check"]):
        out = run(*command, cwd=project)
        text = no_traceback(out)
        assert out.returncode != 0 and "loop.toml" in text and "loop of symbolic links" in text, text[-2000:]
    assert run("prove", cwd=project).returncode == 2


# -- output folders (item 10) -------------------------------------------------------------------

def test_graph_and_import_gym_refuse_a_missing_output_folder_alike(project: Path) -> None:
    """Bug: `graph -o missing/tree.png` crashed with FileNotFoundError, while `import gym -o
    missing/lake.json` silently created the folder."""
    for command in (["graph", "-o", "missing/tree.png"], ["graph", "-o", "missing/tree.dot"],
                    ["import", "gym", "FrozenLake-v1", "-o", "missing/lake.json"]):
        out = run(*command, cwd=project)
        text = no_traceback(out)
        assert out.returncode == 2, (command, text[-2000:])
        assert "the output folder 'missing' does not exist" in text and "mkdir -p missing" in text
        assert not (project / "missing").exists()
    out = run("graph", "-o", "tree.dot", cwd=project)
    assert out.returncode == 0 and (project / "tree.dot").is_file()


# -- numbers and sizes (items 5 and 6) ----------------------------------------------------------

def one_state(folder: Path, reward: str) -> Path:
    path = folder / "m.toml"
    path.write_text(f'rewards = ["r"]\nlabels = ["init"]\ninitial = "s0"\n[states.s0]\nrewards = {{ r = "{reward}" }}\n'
                    '[states.s0.actions.stay]\nto = { s0 = "1" }\n')
    return path


def test_show_prints_a_reward_beyond_the_float_range(tmp_path: Path) -> None:
    """Bug: a 10**400 reward made `show` end in an OverflowError traceback."""
    one_state(tmp_path, "10**400")
    out = run("show", "m.toml", cwd=tmp_path)
    assert out.returncode == 0, no_traceback(out)
    assert "r in [1e+400, 1e+400]" in out.stdout


@pytest.mark.parametrize("reward, message", [
    ("1" * 5000, "too long for a number"),
    ("-" * 100_000 + "1", "too long"),
    ("(10**10000)**10000", "too large a number"),
])
def test_oversized_numbers_are_exit_2_within_seconds_and_bounded_memory(tmp_path: Path, reward: str,
                                                                        message: str) -> None:
    """Bugs: ValueError (int-str limit), MemoryError (nested minus) and a hang ((10**10000)**10000)."""
    one_state(tmp_path, reward)
    start = time.monotonic()
    out = run("show", "m.toml", cwd=tmp_path, memory=2 << 30)
    text = no_traceback(out)
    assert out.returncode == 2 and "m.toml:5:" in text and message in text and len(out.stderr) < 2000
    assert time.monotonic() - start < 60


def test_a_header_claiming_a_billion_states_is_exit_2_in_bounded_memory(tmp_path: Path) -> None:
    """Bug: three rows under a header of 1e9 states allocated 7.45 GiB and died."""
    (tmp_path / "m.tra").write_text("1000000000 2 3\n0 0 1 0.5\n0 0 0 0.5\n1 0 1 1\n")
    out = run("show", "m.tra", cwd=tmp_path, memory=1 << 30)
    text = no_traceback(out)
    assert out.returncode == 2 and "m.tra:1: the header declares 1,000,000,000 states" in text


def test_a_50_megabyte_bad_line_is_quoted_short(tmp_path: Path) -> None:
    """Bug: the whole bad line was echoed in the error message."""
    with (tmp_path / "m.tra").open("w") as out_file:
        out_file.write("mdp\n0 0 0 ")
        out_file.write("7" * 50_000_000)
        out_file.write("x\n")
    out = run("show", "m.tra", cwd=tmp_path)
    text = no_traceback(out)
    assert out.returncode == 2 and "m.tra:2:" in text and "(50,000,001 characters)" in text
    assert len(out.stderr) < 1000


def test_show_max_states_refuses_a_big_prism_program(tmp_path: Path) -> None:
    pytest.importorskip("stormpy")
    shutil.copy(ROOT / "worldmodels" / "warehouse.nm", tmp_path)
    out = run("show", "warehouse.nm", "--max-states", "10", cwd=tmp_path)
    text = no_traceback(out)
    assert out.returncode == 2 and "more than the state limit of 10" in text
    out = run("show", "warehouse.nm", cwd=tmp_path, env={"PROOFS_MAX_STATES": "10"})
    assert out.returncode == 2 and "more than the state limit of 10" in out.stderr
    assert run("show", "warehouse.nm", "--max-states", "1000", cwd=tmp_path).returncode == 0


# -- main() maps what the commands let through (item 5) ------------------------------------------

@pytest.mark.parametrize("error, expected", [
    (PermissionError(errno.EACCES, "Permission denied", "{model}"), "{model}: cannot read or write the file "
                                                                    "(Permission denied)"),
    (PermissionError(errno.EACCES, "Permission denied", "{folder}/.out.json.x1"),
     "{folder}: cannot create a file in this folder (Permission denied)"),
    (OSError(errno.ELOOP, "Too many levels of symbolic links", "{model}"),
     "{model}: the path is a loop of symbolic links"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "{folder}"), "{folder}: this is a folder, not a file"),
    (OSError(errno.ENOSPC, "No space left on device", "{model}"), "{model}: the disk is full"),
    (OSError(errno.ENOSPC, "No space left on device"), "cannot read or write a file: No space left on device"),
    (OSError(errno.EROFS, "Read-only file system", "{model}"), "{model}: the file system is read-only"),
    (MemoryError(), "too large or nested too deeply to process (MemoryError)"),
    (RecursionError("maximum recursion depth exceeded"), "(RecursionError)"),
    (RuntimeError("Symlink loop from '{model}'"), "{model}: the path is a loop of symbolic links"),
])
def test_main_maps_file_system_and_resource_errors_to_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    error: BaseException, expected: str
) -> None:
    model = one_state(tmp_path, "1")
    names = {"model": str(model), "folder": str(tmp_path)}
    if isinstance(error, OSError) and error.filename is not None:
        error = type(error)(error.errno, error.strerror, error.filename.format(**names))
    elif isinstance(error, RuntimeError) and not isinstance(error, RecursionError):
        error = RuntimeError(str(error).format(**names))

    def fail(*args: object) -> None:
        raise error

    monkeypatch.setattr(proofs.report.show, "model_summary", fail)
    with pytest.raises(SystemExit) as exit_info:
        main(["show", str(model)])
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: ") and expected.format(**names) in stderr and "Traceback" not in stderr


def test_main_lets_an_unrelated_runtime_error_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(proofs.report.show, "model_summary", fail)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["show", str(one_state(tmp_path, "1"))])


def test_the_unprivileged_runs_really_cannot_read(project: Path) -> None:
    """The tests above are meaningful: the user they run as is refused a chmod 000 file."""
    target = project / "worldmodels" / "cliff.toml"
    target.chmod(0)
    probe, options = unprivileged([sys.executable, "-c", f"open({str(target)!r}).read()"])
    out = subprocess.run(probe, capture_output=True, text=True, timeout=60, **options)  # type: ignore[call-overload]
    assert out.returncode != 0 and "PermissionError" in out.stderr
    assert not os.access(target, os.R_OK) or os.geteuid() == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0
