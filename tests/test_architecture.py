"""The trusted kernel stays free of solvers: importing it loads no z3, scipy, sympy or networkx."""

import subprocess
import sys

FORBIDDEN = {"z3", "scipy", "sympy", "networkx", "highspy", "stormpy", "gymnasium", "typer"}


def _modules_after(statement: str) -> set[str]:
    probe = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in out.stdout.split()}


KERNEL = ("proofs.kernel.rational", "proofs.kernel.enclosure", "proofs.kernel.interval", "proofs.kernel.bellman",
          "proofs.kernel.certificate", "proofs.kernel.statement", "proofs.kernel.rules", "proofs.kernel.check",
          "proofs.kernel.check_policy", "proofs.kernel.check_alignment", "proofs.kernel.check_alignment_float",
          "proofs.kernel.horizon", "proofs.kernel.schema")


def test_every_kernel_module_is_probed():
    from pathlib import Path

    import proofs.kernel

    folder = Path(proofs.kernel.__file__).parent
    assert {f"proofs.kernel.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"} == set(KERNEL)


def test_kernel_imports_no_solver():
    assert not _modules_after("import " + ", ".join(KERNEL)) & FORBIDDEN


def test_reading_base_imports_no_solver():
    loaded = _modules_after("import proofs.worldmodel, proofs.spec.formula, proofs.policy, proofs.semantics.episode")
    assert not loaded & FORBIDDEN
