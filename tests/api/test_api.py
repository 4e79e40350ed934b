"""The Python API: the same lemma gives the same certificate bytes as `proofs prove`, results are
kernel-checked, standalone certificates pass `proofs check`, and bad input is a clear error."""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import proofs
from proofs.core.errors import InputError, InputErrors

ROOT = Path(__file__).resolve().parents[2]
PHI = ['P<=0.01 [ F "fatal" ]', 'R{"harm"}<=0.01 [ C ]']


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the example project (its certificates made by `proofs prove`)."""
    for part in ("worldmodels", "policies", "obligations", "certificates"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proofs", *args], cwd=cwd, capture_output=True, text=True)


def test_the_api_writes_the_bytes_the_cli_writes(project: Path) -> None:
    written = {name: (project / "certificates" / name).read_bytes()
               for name in ("careful.alignment.json", "careful.walk-policy.json", "careful.safe.json")}
    model = proofs.load_model(project / "worldmodels" / "cliff.toml")
    J = proofs.Objective("careful", horizon=6)
    obligation = "obligations/cliff-careful.toml"
    a = proofs.prove_alignment(model, J, epsilon="1/100", desirable=PHI, margin=True)
    p = proofs.prove_policy(model, J, epsilon=Fraction(1, 100), policy=project / "policies" / "cliff-walk.json")
    s = proofs.compose(a, p)
    out = project / "certificates"
    a.save(out / "careful.alignment.json", obligation=obligation)
    p.save(out / "careful.walk-policy.json", obligation=obligation)
    s.save(out / "careful.safe.json", obligation=obligation)
    for name, data in written.items():
        assert (out / name).read_bytes() == data, name
    assert _cli(["check"], project).returncode == 0


def test_statuses_values_and_the_reward_hack() -> None:
    model = proofs.load_model(ROOT / "worldmodels" / "cliff.toml")
    hacked = proofs.prove_alignment(model, proofs.Objective("progress", horizon=6), epsilon="1/100",
                                    desirable=['P<=0.01 [ F "fatal" ]'])
    assert hacked.status is proofs.Status.REFUTED and hacked.status.value == "refuted"
    assert hacked.constraints[0]["holds"] is False
    hack = hacked.counterexample
    assert hack is not None
    # The hack is near-optimal for J and violates Φ: evaluate each component independently.
    total_j, total_p = Fraction(0), Fraction(0)
    for weight, part in hack.components:
        e = proofs.evaluate(model, proofs.Objective("progress", horizon=6), part, ['P<=0.01 [ F "fatal" ]'])
        assert e.j_policy is not None and e.j_star is not None
        total_j += weight * e.j_policy.value
        total_p += weight * e.properties[0]["value"].value
    assert total_j >= hacked.j_star.lo - Fraction(1, 100)
    assert total_p > Fraction(1, 100)
    assert total_p == hacked.constraints[0]["worst"].lo
    assert "VIOLATED" in hacked.explain() and "reward hack" in hacked.explain()
    assert abs(float(hacked.j_star) - 0.98125) < 1e-12


def test_a_policy_as_a_table_and_as_a_function_gets_one_certificate(tmp_path: Path) -> None:
    model = proofs.load_model(ROOT / "worldmodels" / "cliff.toml")
    J = proofs.Objective("careful", horizon=6)
    by_file = proofs.prove_policy(model, J, epsilon="1/100", policy=ROOT / "policies" / "cliff-walk.json")
    function = proofs.Policy.from_callable(model, lambda s: "stay" if s == "goal" else "walk")
    by_code = proofs.prove_policy(model, J, epsilon="1/100", policy=function)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    by_file.save(tmp_path / "a" / "walk.json")
    by_code.save(tmp_path / "b" / "walk.json")
    first = (tmp_path / "a" / "walk.json").read_bytes()
    assert by_file.status.value == by_code.status.value == "proved"
    assert by_file.gap == by_code.gap
    strip = (lambda data: [line for line in data.splitlines() if b'"path"' not in line])
    assert strip(first) == strip((tmp_path / "b" / "walk.json").read_bytes())


def test_a_standalone_certificate_passes_proofs_check_and_tampering_fails(tmp_path: Path) -> None:
    shutil.copy(ROOT / "worldmodels" / "cliff.toml", tmp_path / "cliff.toml")
    model = proofs.load_model(tmp_path / "cliff.toml")
    result = proofs.prove_policy(model, proofs.Objective("careful", horizon=6), epsilon="1/100",
                                 policy=proofs.Policy.from_callable(model, lambda s: "walk" if s != "goal" else "stay"))
    (tmp_path / "certs").mkdir()
    cert = result.save(tmp_path / "certs" / "walk.json")
    verdict = proofs.check(cert)
    assert verdict.accepted and verdict.status is proofs.Status.PROVED, verdict.reason
    run = _cli(["check", str(cert)], tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "standalone" in run.stdout
    # the model changes: stale
    (tmp_path / "cliff.toml").write_text((tmp_path / "cliff.toml").read_text() + "\n# edited\n")
    assert not proofs.check(cert).accepted
    assert _cli(["check", str(cert)], tmp_path).returncode == 1
    # a tampered number: rejected by the kernel
    (tmp_path / "cliff.toml").write_text((ROOT / "worldmodels" / "cliff.toml").read_text())
    assert proofs.check(cert).accepted
    text = cert.read_text()
    cert.write_text(text.replace('"lo": "57/64"', '"lo": "58/64"', 1))
    verdict = proofs.check(cert)
    assert not verdict.accepted and "j_policy" in verdict.reason, verdict.reason


def test_a_model_from_gymnasium_and_its_q_table_policy(tmp_path: Path) -> None:
    lake = proofs.from_gym("FrozenLake-v1", is_slippery=False)
    assert lake.grid == (4, 4) and lake.path is None
    path = {"0": 1, "4": 1, "8": 2, "9": 1, "13": 2, "14": 2}
    q = np.zeros((16, 4))
    for s, a in path.items():
        q[int(s), a] = 1
    J = proofs.Objective("reward", horizon=10)
    policy = proofs.Policy.from_q_table(lake, q)
    result = proofs.prove_policy(lake, J, epsilon=0, policy=policy)
    assert result.status is proofs.Status.PROVED and result.j_policy.value == 1
    with pytest.raises(ValueError, match="save it first"):
        result.save(tmp_path / "lake.walk.json")
    lake.save(tmp_path / "lake.json")
    doc = subprocess.run([sys.executable, "-m", "proofs", "import", "gym", "FrozenLake-v1", "-o", "cli.json",
                          "--kw", "is_slippery=false"], cwd=tmp_path, capture_output=True, text=True)
    assert doc.returncode == 0, doc.stderr
    assert (tmp_path / "lake.json").read_bytes() == (tmp_path / "cli.json").read_bytes()
    cert = result.save(tmp_path / "lake.walk.json")
    assert proofs.check(cert).accepted
    import gymnasium

    episodes = policy.rollout(gymnasium.make("FrozenLake-v1", is_slippery=False), episodes=2, seed=1)
    assert [e.total for e in episodes] == [1.0, 1.0] and episodes[0].terminated


def test_numbers_are_exact_and_bad_input_is_a_clear_error() -> None:
    model = proofs.load_model(ROOT / "worldmodels" / "cliff.toml")
    with pytest.raises(TypeError, match="exact"):
        proofs.prove_policy(model, proofs.Objective("careful", horizon=6), epsilon=0.01,  # type: ignore[arg-type]
                            policy=ROOT / "policies" / "cliff-walk.json")
    with pytest.raises((InputError, InputErrors), match="reward"):
        proofs.prove_policy(model, proofs.Objective("nope", horizon=6), epsilon="1/100",
                            policy=ROOT / "policies" / "cliff-walk.json")
    with pytest.raises(ValueError, match="horizon"):
        proofs.Objective("careful", horizon=0)
    assert proofs.Objective("careful", horizon="geometric", discount="0.95").discount == Fraction(19, 20)
    with pytest.raises(KeyError, match="did you mean"):
        model.index("strat")
    with pytest.raises(InputError):
        proofs.load_model(ROOT / "worldmodels" / "missing.toml")


def test_import_proofs_stays_light() -> None:
    probe = "import sys, proofs; print(' '.join(m for m in sys.modules if m.startswith(('z3', 'scipy', 'proofs.api'))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


USER_SCRIPT = '''
from fractions import Fraction

import proofs


def certify(path: str) -> bool:
    model = proofs.load_model(path)
    J = proofs.Objective("careful", horizon=6)
    a: proofs.AlignmentResult = proofs.prove_alignment(model, J, epsilon="1/100", desirable=['P<=0.01 [ F "fatal" ]'])
    p: proofs.PolicyResult = proofs.prove_policy(model, J, epsilon=Fraction(1, 100), policy="policies/cliff-walk.json")
    gap: float = float(p.gap)
    status: str = proofs.compose(a, p).status.value
    verdict: proofs.Verdict = proofs.check("certificates/cliff.walk-policy.json")
    return verdict.accepted and status == "proved" and gap <= 0.01
'''


def test_user_code_type_checks_against_the_api(tmp_path: Path) -> None:
    """The package is typed (py.typed): a user's script using the API passes mypy --strict."""
    script = tmp_path / "user.py"
    script.write_text(USER_SCRIPT)
    env = {**__import__("os").environ, "MYPYPATH": str(ROOT / "src")}
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                          str(script)], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    script.write_text(USER_SCRIPT.replace('epsilon="1/100", desirable', 'epsilon=0.01, desirable'))
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                          str(script)], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 1 and "epsilon" in run.stdout, run.stdout


def test_a_standalone_certificate_cannot_stand_in_for_a_declared_lemma(project: Path) -> None:
    """Saved without obligation= under a declared lemma's name, a certificate is stale: it says
    nothing about what the obligation declares."""
    model = proofs.load_model(project / "worldmodels" / "cliff.toml")
    result = proofs.prove_policy(model, proofs.Objective("progress", horizon=6), epsilon="1",
                                 policy=project / "policies" / "cliff-walk.json")
    assert result.proved
    result.save(project / "certificates" / "careful.walk-policy.json")   # the declared lemma's file
    verdict = proofs.check(project / "certificates" / "careful.walk-policy.json")
    assert not verdict.accepted and "declared" in verdict.reason, verdict.reason
    assert _cli(["check"], project).returncode == 1


def test_save_into_a_folder(tmp_path: Path) -> None:
    model = proofs.load_model(ROOT / "worldmodels" / "cliff.toml")
    result = proofs.prove_policy(model, proofs.Objective("careful", horizon=6), epsilon="1/100",
                                 policy=ROOT / "policies" / "cliff-walk.json")
    assert result.save(tmp_path) == tmp_path / "policy.json"
    assert result.save(tmp_path, lemma_id="walk") == tmp_path / "walk.json"
    assert proofs.check(tmp_path / "walk.json").accepted
