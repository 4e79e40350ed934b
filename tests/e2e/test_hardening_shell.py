"""End-to-end guards of the shell around the kernel: `proofs prove` / `proofs check`, stamps, workers.

Each test names the defect it guards (a run that could end green when it should not).
"""

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.e2e.test_prove import OBLIGATION, copy_repository_project, make_project, results
from tests.support.mdps import bench_generate

ROOT = Path(__file__).resolve().parents[2]


def statuses(out):
    return {i: r["status"] for i, r in results(out).items()}


# -- 1. a stuck `unknown` -------------------------------------------------------------------------
def test_stuck_unknown_a_forced_timeout_keeps_the_proved_certificates_and_the_next_run_proves(proofs, tmp_path):
    project = copy_repository_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    certs = project / "certificates"
    before = {p.name: p.read_bytes() for p in certs.glob("*.json")}
    limited = proofs("prove", "--force", "--timeout", "0.000001", "--json", cwd=project)
    assert limited.returncode == 3, limited.stdout
    assert {p.name: p.read_bytes() for p in certs.glob("*.json")} == before  # nothing replaced by `unknown`
    again = proofs("prove", "--json", cwd=project)
    assert again.returncode == 0, again.stdout
    assert statuses(again)["careful.safe"] == "proved"
    explained = proofs("explain", "careful.safe", cwd=project).stdout
    assert "PROVED" in explained and "premise not proved" not in explained
    assert proofs("check", cwd=project).returncode == 0
    r = results(limited)   # the limited run said what it did
    assert r["careful.alignment"]["status"] == "unknown"
    assert "limit reached" in r["careful.alignment"]["reason"] and "kept" in r["careful.alignment"]["reason"]
    assert r["careful.safe"]["status"] == "unknown" and "kept" in r["careful.safe"]["reason"]


def test_stuck_unknown_an_unknown_certificate_is_tried_again_not_reused(proofs, tmp_path):
    project = copy_repository_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    safe = project / "certificates" / "careful.safe.json"
    doc = json.loads(safe.read_text())
    doc["status"], doc["reason"] = "unknown", "premise not proved: careful.alignment (unknown)"
    safe.write_text(json.dumps(doc, sort_keys=True, indent=2) + "\n")  # still checks: `unknown` claims nothing
    again = proofs("prove", "--json", cwd=project)
    assert again.returncode == 0, again.stdout
    r = results(again)
    assert r["careful.safe"]["status"] == "proved" and r["careful.safe"]["action"] != "re-used"
    assert json.loads(safe.read_text())["status"] == "proved"


# -- 2. certificates never verified (a lemma id taking a log's name) ------------------------------
def test_certificates_never_verified_lemma_id_timings_is_checked(proofs, tmp_path):
    project = make_project(tmp_path)
    obligation = project / "obligations" / "cliff.toml"
    obligation.write_text(obligation.read_text().replace('id = "walk"', 'id = "timings"'))
    proved = proofs("prove", "--json", cwd=project)
    assert proved.returncode == 0, proved.stdout
    checked = proofs("check", cwd=project)
    assert checked.returncode == 0 and "accepted  timings (proved)" in checked.stdout, checked.stdout
    assert "2 accepted, 0 rejected" in checked.stdout
    assert json.loads((project / "certificates" / "timings.json").read_text())["lemma"]["id"] == "timings"
    assert set(json.loads((project / ".proofs" / "timings.json").read_text())) == {"timings", "run"}
    assert (project / ".proofs" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_certificates_never_verified_a_certificate_that_would_overwrite_an_input_is_an_input_error(proofs, tmp_path):
    project = make_project(tmp_path)
    (project / "pyproject.toml").write_text('[tool.proofs]\ncertificates = "policies"\n')
    obligation = project / "obligations" / "cliff.toml"
    obligation.write_text(obligation.read_text().replace('id = "walk"', 'id = "cliff-walk"'))
    policy = (project / "policies" / "cliff-walk.json").read_bytes()
    for command in ("prove", "check"):
        out = proofs(command, cwd=project)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (command, out.stderr)
        assert "cliff.toml" in out.stderr and 'lemma."cliff-walk".id' in out.stderr
    assert (project / "policies" / "cliff-walk.json").read_bytes() == policy


def test_certificates_never_verified_ids_differing_only_in_case_are_an_input_error(proofs, tmp_path):
    project = make_project(tmp_path)
    obligation = project / "obligations" / "cliff.toml"
    obligation.write_text(obligation.read_text().replace('id = "run"', 'id = "WALK"'))
    out = proofs("prove", cwd=project)
    assert out.returncode == 2 and 'lemma."WALK".id' in out.stderr and "case" in out.stderr


def test_certificates_never_verified_old_logs_in_the_certificate_folder(proofs, tmp_path):
    project = make_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    certs = project / "certificates"
    (certs / "timings.json").write_text('{"walk": 0.1}\n')   # as earlier versions wrote them
    (certs / ".stamps.json").write_text('{"walk": "0"}\n')
    checked = proofs("check", cwd=project)
    assert checked.returncode == 0 and "ignored" in checked.stdout, checked.stdout
    assert proofs("prove", cwd=project).returncode == 0
    assert not (certs / "timings.json").exists() and not (certs / ".stamps.json").exists()


# -- 3. `proofs check` green when certificates are missing ----------------------------------------
def test_check_green_with_missing_certificate_of_a_declared_lemma_fails(proofs, tmp_path):
    project = make_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    (project / "certificates" / "run.json").unlink()
    out = proofs("check", cwd=project)
    assert out.returncode == 1 and "MISSING" in out.stdout and "run" in out.stdout, out.stdout
    doc = json.loads(proofs("check", "--json", cwd=project).stdout)
    assert doc["missing"] == 1 and any(r.get("missing") and r["id"] == "run" for r in doc["checked"])


def test_check_green_with_no_certificate_at_all_fails(proofs, tmp_path):
    project = make_project(tmp_path)
    out = proofs("check", cwd=project)
    assert out.returncode == 1 and "2 missing" in out.stdout, out.stdout


DRAFT = """
[worldmodel]
path = "worldmodels/cliff.toml"

[objective]
reward = "progress"
horizon = 6

[[lemma]]
id = "draft-walk"
kind = "policy"
policy = "policies/cliff-walk.json"
epsilon = "0.1"
"""


def test_check_green_with_a_certificate_no_project_obligation_declares_fails(proofs, tmp_path):
    project = make_project(tmp_path)
    (project / "draft.toml").write_text(DRAFT)      # tried out, then moved into the project as "walk"
    assert proofs("prove", "draft.toml", cwd=project).returncode == 0
    assert proofs("prove", cwd=project).returncode == 0
    out = proofs("check", cwd=project)
    assert out.returncode == 1 and "UNDECLARED" in out.stdout and "draft-walk.json" in out.stdout, out.stdout


def test_check_green_with_a_certificate_left_behind_by_a_rename_fails(proofs, tmp_path):
    project = make_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    obligation = project / "obligations" / "cliff.toml"
    obligation.write_text(obligation.read_text().replace('id = "run"', 'id = "runner"'))
    assert proofs("prove", cwd=project).returncode == 0
    out = proofs("check", cwd=project)
    assert out.returncode == 1 and "UNDECLARED" in out.stdout and "run.json" in out.stdout, out.stdout
    named = proofs("check", "certificates/walk.json", "certificates/runner.json", cwd=project)
    assert named.returncode == 0 and "2 accepted, 0 rejected" in named.stdout, named.stdout


def test_check_green_in_a_folder_without_a_project_is_an_input_error(proofs, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.proofs]\n")
    out = proofs("check", cwd=tmp_path)
    assert out.returncode == 2 and "nothing to check" in out.stderr


# -- 7. orphaned workers --------------------------------------------------------------------------
SLOW = """
[worldmodel]
path = "../worldmodels/random_{n}.tra"

[objective]
reward = "r"
horizon = 30

[[lemma]]
id = "slow.{i}"
kind = "alignment"
epsilon = "1/2"
desirable = ['P<=1/100 [ F "fatal" ]']
engine = "smt"
"""


def slow_project(tmp: Path, n: int = 1000) -> Path:
    """Two alignment lemmas the `smt` engine takes tens of seconds to decide (about 30 s each here)."""
    (tmp / "worldmodels").mkdir(parents=True)
    (tmp / "obligations").mkdir()
    bench_generate().generate("random", n, tmp / "worldmodels")
    (tmp / "pyproject.toml").write_text("[tool.proofs]\n")
    for i in (1, 2):
        (tmp / "obligations" / f"slow-{i}.toml").write_text(SLOW.format(n=n, i=i))
    return tmp


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> set[int]:
    out = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat_file.parent.name))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_orphaned_workers_die_with_a_killed_prove(tmp_path, how):
    project = slow_project(tmp_path)
    stdout, stderr = (open(tmp_path / name, "w") for name in ("stdout", "stderr"))  # not pipes a worker could hold
    run = subprocess.Popen([sys.executable, "-m", "proofs", "prove", "--json", "--jobs", "2"], cwd=project,
                           stdout=stdout, stderr=stderr)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and run.poll() is None:
            workers |= children(run.pid)
            time.sleep(0.1)
        assert len(workers) >= 2 and run.poll() is None, "the slow lemmas ended before the test could stop them"
        time.sleep(0.5)
        run.send_signal(how)
        run.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)], "a worker outlived its killed `proofs prove`"
        assert not list(project.glob("certificates/.*")), "a temporary file outlived the run"
        if how == signal.SIGTERM:
            err = (tmp_path / "stderr").read_text()
            assert run.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    finally:
        for pid in [run.pid, *workers]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        run.wait()
        stdout.close()
        stderr.close()


def test_orphaned_workers_temporary_files_of_a_killed_run_are_removed(proofs, tmp_path):
    project = make_project(tmp_path)
    assert proofs("prove", cwd=project).returncode == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    certs = project / "certificates"
    leftover = certs / f".walk.json.{gone.stdout.strip()}.k3j_x9ab.proofs-tmp"
    old_style = certs / ".run.json.a1b2c3d4"     # written before temporary files named their process
    live = certs / f".run.json.{os.getpid()}.zz11yy22.proofs-tmp"   # a live process's: not ours to remove
    for path in (leftover, old_style, live):
        path.write_text("{")
    os.utime(old_style, (time.time() - 3600, time.time() - 3600))
    assert proofs("prove", cwd=project).returncode == 0
    assert not leftover.exists() and not old_style.exists() and live.exists()
    assert proofs("check", cwd=project).returncode == 0


def test_orphaned_workers_temporary_files_are_git_ignored(tmp_path):
    names = ["certificates/.careful.safe.json.4242.k3j_x9ab.proofs-tmp", "certificates/.walk.json.a1b2c3d4",
             "certificates/.walk.npz.a1b2c3d4", ".proofs/stamps.json", ".proofs/timings.json"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_bytes((ROOT / ".gitignore").read_bytes())   # the repository's rules
    out = subprocess.run(["git", "check-ignore", "--no-index", *names], cwd=tmp_path, capture_output=True, text=True)
    assert sorted(out.stdout.split()) == sorted(names), out.stdout + out.stderr


# -- 8. cross-file `from` when files are named ----------------------------------------------------
COMPOSITION = """
[[lemma]]
id = "walk-safe"
kind = "certificate"
from = ["cliff.alignment", "cliff.walk-policy"]
expect = "refuted"
"""


def test_cross_file_from_premises_are_found_when_one_file_is_named(proofs, tmp_path):
    project = copy_repository_project(tmp_path)
    (project / "obligations" / "composition.toml").write_text(COMPOSITION)
    out = proofs("prove", "--json", "obligations/composition.toml", cwd=project)
    assert "no obligation file declares" not in out.stderr, out.stderr
    assert set(results(out)) == {"walk-safe", "cliff.alignment", "cliff.walk-policy"}
    assert not (project / "certificates" / "careful.safe.json").exists()   # not named, not needed


def test_cross_file_from_a_named_file_outside_the_obligations_folder(proofs, tmp_path):
    project = copy_repository_project(tmp_path)
    (project / "elsewhere.toml").write_text(COMPOSITION)
    out = proofs("prove", "--json", "elsewhere.toml", cwd=project)
    assert set(results(out)) == {"walk-safe", "cliff.alignment", "cliff.walk-policy"}, out.stderr


# -- 10. file modes and command-line limits -------------------------------------------------------
def test_certificates_written_mode_0600_now_follow_the_umask(proofs, tmp_path):
    project = make_project(tmp_path)
    old = os.umask(0o022)
    try:
        assert proofs("prove", cwd=project).returncode == 0
    finally:
        os.umask(old)
    for path in [*(project / "certificates").iterdir(), project / ".proofs" / "stamps.json"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_write_atomic_mode_follows_another_umask(tmp_path):
    from proofs.core.certificate import write_atomic

    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.parametrize("option", [("--timeout", "0"), ("--timeout", "-1"), ("--timeout", "nan"),
                                    ("--timeout", "inf"), ("--jobs", "0"), ("--jobs", "-1")])
def test_prove_accepts_timeout_0_or_jobs_0_now_rejected(proofs, tmp_path, option):
    project = make_project(tmp_path)
    out = proofs("prove", *option, cwd=project)
    assert out.returncode == 2 and option[0] in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (project / "certificates").exists()


# -- newcomers: folders, --version, an 80-column table --------------------------------------------
def test_folder_where_files_are_expected_prove_and_check_take_folders(proofs, tmp_path):
    project = make_project(tmp_path)
    proved = proofs("prove", "--json", "obligations/", cwd=project)
    assert proved.returncode == 0 and set(results(proved)) == {"walk", "run"}, proved.stderr
    checked = proofs("check", "certificates/", cwd=project)
    assert checked.returncode == 0 and "2 accepted, 0 rejected" in checked.stdout, checked.stdout
    (project / "certificates" / "run.json").unlink()
    assert proofs("check", "certificates", cwd=project).returncode == 1   # the project's folder: complete
    empty = project / "empty"
    empty.mkdir()
    assert proofs("prove", "empty", cwd=project).returncode == 2
    assert proofs("check", "empty", cwd=project).returncode == 2


def test_version_option(proofs):
    from proofs import __version__

    out = proofs("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"proofs {__version__}"


def test_result_table_unreadable_at_80_columns_shows_full_status_and_reason():
    from rich.console import Console

    from proofs.prooftree.prove import Outcome
    from proofs.report.render import summary_table

    reason = ("no answer within 600 s (limit reached); the previous certificate (proved), which still "
              "checks, was kept: certificates/warehouse.careful-alignment.json")
    outcomes = [
        Outcome("warehouse.careful-alignment", "alignment", "unknown", "proved", {}, None, 600.0, "timeout", reason),
        Outcome("warehouse.delivery-alignment", "alignment", "refuted", "refuted", {}, None, 0.1, "discharged",
                "inputs new or changed"),
        Outcome("warehouse.trained-safe", "certificate", "proved", "refuted", {}, None, 0.0, "composed", "x y"),
        Outcome("cliff.run-policy", "policy", "error", "proved", {}, None, 1.5, "rejected", "the kernel rejected it"),
    ]
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(summary_table(outcomes))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    words = set(text.split())
    assert {"unknown", "refuted", "proved", "error"} <= words, text
    assert set(reason.split()) <= words, text
