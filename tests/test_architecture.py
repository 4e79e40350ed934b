"""The trusted kernel stays free of solvers: importing it loads no z3, scipy, sympy or networkx."""

import subprocess
import sys

FORBIDDEN = {"z3", "scipy", "sympy", "networkx", "highspy", "stormpy", "gymnasium", "typer"}


def _modules_after(statement: str) -> set[str]:
    probe = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in out.stdout.split()}


KERNEL = ("proofs.core.certificate", "proofs.core.certificates", "proofs.core.enclosure", "proofs.core.errors", "proofs.core.formula",
          "proofs.core.model", "proofs.core.numbers", "proofs.core.objective", "proofs.core.policy",
          "proofs.core.rational", "proofs.core.schema",
          "proofs.kernel.bellman", "proofs.kernel.check", "proofs.kernel.check_alignment",
          "proofs.kernel.check_alignment_float", "proofs.kernel.check_policy", "proofs.kernel.direct", "proofs.kernel.episode",
          "proofs.kernel.horizon", "proofs.kernel.rounding", "proofs.kernel.rules", "proofs.core.statement")


def test_every_kernel_module_is_probed():
    from pathlib import Path

    import proofs.core
    import proofs.kernel

    found = set()
    for package in (proofs.core, proofs.kernel):
        folder = Path(package.__file__).parent
        found |= {f"{package.__name__}.{p.stem}" for p in folder.glob("*.py") if p.stem not in ("__init__", "__main__")}
    assert found == set(KERNEL)


def test_kernel_imports_no_solver():
    assert not _modules_after("import " + ", ".join(KERNEL)) & FORBIDDEN


def test_reading_base_imports_no_solver():
    loaded = _modules_after("import proofs.worldmodel, proofs.core.formula, proofs.policy, proofs.kernel.episode")
    assert not loaded & FORBIDDEN


def test_kernel_imports_no_engine_code():
    """Imports point one way (operators, engines, semantics -> kernel -> core): the trusted kernel
    loads none of the untrusted search code, in particular not the fast operators."""
    probe = f"import sys; import {', '.join(KERNEL)}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    ours = {m.split(".")[1] for m in out.stdout.split() if m.startswith("proofs.")}
    assert not ours & {"operators", "engines", "semantics", "prooftree", "report"}, ours


def test_imports_point_one_way():
    """core imports nothing else of proofs; kernel imports only core (and itself)."""
    import ast
    from pathlib import Path

    import proofs

    base = Path(proofs.__file__).parent
    allowed = {"core": ("proofs.core",), "kernel": ("proofs.core", "proofs.kernel")}
    for part, prefixes in allowed.items():
        for path in (base / part).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                    [a.name for a in node.names] if isinstance(node, ast.Import) else []
                for name in names:
                    if name == "proofs" or name.startswith("proofs."):
                        assert name.startswith(prefixes), f"{path.name} imports {name}"


def test_the_trusted_base_stays_small():
    """The kernel and the plain data types it reads: their line counts (see docs/soundness.md)."""
    from pathlib import Path

    import proofs

    base = Path(proofs.__file__).parent
    kernel = sum(len(p.read_text().splitlines()) for p in (base / "kernel").glob("*.py"))
    core = sum(len(p.read_text().splitlines()) for p in (base / "core").glob("*.py"))
    # 2,540 before the credal checks (the alignment lemma's bounds with nature, Φ's direct evaluation
    # on interval models: about 160 lines), 2,700 before the long-horizon slopes of the float
    # alignment and policy checkers and of Φ's direct evaluation (about 165 lines), 2,865 before the
    # float passes by successor position (about 40 lines, for the kernel's own speed), 2,910 before
    # nature's greedy in float passes on credal models (about 75 lines), 2,985 before the float
    # alignment checker's credal bounds (about 60 lines), 3,050 before the model–reality margin η of
    # a policy lemma (about 95 lines: the total-variation ball and the breaking environment), 3,150
    # before η of a safety certificate (about 60 lines), 3,215 before the max over a state's choices
    # by choice position and the float alignment checker's upper bound on a second thread (about 25
    # lines, for the kernel's own speed), 3,240 before the closed-form margin η of alignment lemmas,
    # policy lemmas and safety certificates, finite and geometric (about 70 lines); the kernel issue aims
    # at about 1,500
    assert kernel <= 3320, kernel
    # core holds the certificate types twice over for now: `proofs.core.schema` (the shapes the
    # kernel validates with) and `proofs.core.certificates` (the typed objects); the kernel's
    # adoption of the types is meant to retire most of schema
    assert core <= 3240, core   # 3,200 before the margin η in the certificate types (about 35 lines)
