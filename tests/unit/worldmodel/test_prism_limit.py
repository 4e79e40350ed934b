"""Storm's build of PRISM programs under a state limit, and the source lines of PRISM choices.

Bug guarded (hardening issue, item 6): a PRISM program counting to 1e8 made Storm's builder run
for 51 s, take 6.4 GB and abort inside GMP, killing the process with no message.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proofs.core.errors import InputError
from proofs.worldmodel.load import load_mdp
from proofs.worldmodel.prism_limit import DEFAULT_MAX_STATES, ENVIRONMENT_VARIABLE, max_states, state_limit

from .helpers import only_error, write

pytest.importorskip("stormpy")

SPARSE = """mdp
module m
  x : [0..1000000] init 0;
  [step] x < 10 -> 1/2 : (x'=x+1) + 1/2 : (x'=x);
  [stay] x >= 10 -> true;
endmodule
"""
COUNTER = """mdp
const int N = 100000000;
module m
  x : [0..N] init 0;
  [step] x < N -> 1/2 : (x'=x+1) + 1/2 : (x'=x);
  [stay] x = N -> true;
endmodule
"""


def test_the_limit_comes_from_the_call_the_environment_or_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    assert max_states() == DEFAULT_MAX_STATES == 5_000_000
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "1_000")
    assert max_states() == 1000
    with state_limit(7):
        assert max_states() == 7
    assert max_states() == 1000
    for bad in ("0", "-5", "lots", "1e6"):
        monkeypatch.setenv(ENVIRONMENT_VARIABLE, bad)
        with pytest.raises(InputError, match=f"environment:{ENVIRONMENT_VARIABLE}: .* is not a positive number"):
            max_states()


def test_a_crash_of_storms_builder_is_an_input_error_not_a_dead_process(tmp_path: Path) -> None:
    """Bug found by fuzzing: a modulo by zero in a variable's bound killed the process with SIGFPE
    inside Storm (no message, exit code 136)."""
    text = "mdp\nmodule m\n  x : [0..mod(10, 0)] init 0;\n  [a] x<3 -> (x'=x+1);\n  [b] x>=3 -> true;\nendmodule\n"
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.nm", text)))
    assert "m.nm: Storm's builder crashed on the program (SIGFPE" in str(error) and "modulo by zero" in str(error)


@pytest.mark.parametrize("change, message", [
    (("const int D = 5;", "const int D = 0/0;"), "Storm's parser crashed on the program (SIGFPE"),
    (("formula lane = y=0 & x>0 & x<W-1;", "formula lane = y=0 & x>0 & x<W-0/0;"), "Storm's parser crashed"),
    (("[south] x=W-1 & y=1 : 1;", "[south] x=W-1 & y=1 : 1/0;"), "Storm's builder crashed on the program (SIGFPE"),
])
def test_storm_crashes_on_divisions_by_zero_are_input_errors(tmp_path: Path, change: tuple[str, str],
                                                             message: str) -> None:
    """Bugs found by fuzzing: `const int D = 0/0;` killed the process inside Storm's parser, and a
    reward of 1/0 inside its exact builder (GMP), with SIGFPE."""
    text = (Path(__file__).resolve().parents[3] / "worldmodels" / "warehouse.nm").read_text()
    assert change[0] in text
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "w.nm", text.replace(*change))))
    assert f"w.nm: {message}" in str(error)


def test_a_program_whose_ranges_exceed_the_limit_is_counted_first(tmp_path: Path) -> None:
    path = write(tmp_path / "m.nm", SPARSE)
    with state_limit(100):
        assert load_mdp(path).n_states == 11  # a million valuations, eleven reachable states
    with state_limit(5):
        error = only_error(pytest.raises(InputError, load_mdp, path))
    assert "m.nm: the program has 11 reachable states, more than the state limit of 5" in str(error)
    assert ENVIRONMENT_VARIABLE in str(error) and "--max-states" in str(error)


def test_a_program_counting_to_1e8_is_refused_in_bounded_time_and_memory(tmp_path: Path) -> None:
    path = write(tmp_path / "count.nm", COUNTER)
    code = ("import sys\nfrom proofs.core.errors import InputError\nfrom proofs.worldmodel.load import load_mdp\n"
            "try:\n    load_mdp(sys.argv[1])\nexcept InputError as exc:\n    print(exc)\n    sys.exit(2)\n")

    def cap() -> None:  # the whole process tree, the counting child included, stays under 2 GB
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                         preexec_fn=cap, env={**os.environ, ENVIRONMENT_VARIABLE: "1000"})
    assert out.returncode == 2, (out.returncode, out.stdout[-500:], out.stderr[-2000:])
    assert "count.nm: the program has more than 1,000 reachable states" in out.stdout
    assert "100,000,001 valuations" in out.stdout and "exploring it needed more than" in out.stdout
    assert time.monotonic() - start < 60


def test_a_choice_is_reported_at_the_line_of_its_command(tmp_path: Path) -> None:
    text = """mdp
// [a] comment; with brackets
module m1
  x : [0..1] init 0; // [x]
  [go] x=0 -> 0.5:(x'=1) + 0.4:(x'=0);
  [] x=1 -> true;
endmodule
module m2 = m1 [x=y, go=go2] endmodule
"""
    error = pytest.raises(Exception, load_mdp, write(tmp_path / "bad.nm", text)).value
    lines = [line for line in str(error).splitlines() if "sum to 9/10" in line]
    assert lines and all(line.split("bad.nm:")[1].startswith("5:state ") for line in lines), str(error)
    assert any("action go2" in line for line in lines) and any("action go:" in line for line in lines)


def test_a_number_storm_builds_beyond_the_size_limit_is_an_input_error(tmp_path: Path) -> None:
    """Bug found by fuzzing: Storm's exact rational with 8,000 digits escaped as an ExpressionError."""
    text = f"""mdp
const double p = 0.{"0" * 5000}1;
module m
  x : [0..1] init 0;
  [a] x=0 -> p : (x'=1) + (1 - p) : (x'=0);
  [b] x=1 -> true;
endmodule
"""
    error = only_error(pytest.raises(InputError, load_mdp, write(tmp_path / "m.nm", text)))
    assert "m.nm: Storm built a number too large to read exactly" in str(error) and len(str(error)) < 700
    assert load_mdp(write(tmp_path / "ok.nm", text.replace("0" * 5000, "0" * 3000))).n_states == 2


def test_a_program_without_variables_is_read(tmp_path: Path) -> None:
    """Bug found by fuzzing: Storm's valuation of a state of a program without variables is JSON null,
    which raised TypeError."""
    mdp = load_mdp(write(tmp_path / "m.nm", "mdp\nmodule m\n  [a] true -> true;\nendmodule\n"))
    assert mdp.n_states == 1 and mdp.states == ("",)
