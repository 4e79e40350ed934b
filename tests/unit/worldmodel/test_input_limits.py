"""Size guards of the readers: numbers, expressions, headers and quoted input stay bounded.

Each test names the defect it guards (hardening issue, items 6 and 10): before, these inputs
raised ValueError/MemoryError/OverflowError tracebacks, hung, or allocated gigabytes.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors, Location, quote
from proofs.core.rational import MAX_DIGITS, ExpressionError, evaluate_expression, parse_rational
from proofs.report.show import model_summary, render_summary
from proofs.worldmodel.load import load_mdp

from .helpers import errors_of, write


def one_state_toml(folder: Path, reward: str) -> Path:
    return write(folder / "m.toml", f"""rewards = ["r"]
labels = ["init"]
initial = "s0"
[states.s0]
rewards = {{ r = "{reward}" }}
[states.s0.actions.stay]
to = {{ s0 = "1" }}
""")


def message_of(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return "\n".join(str(e) for e in errors_of(excinfo))


# -- numbers and expressions (kernel.rational) ------------------------------------------------------

def test_a_literal_over_python_int_limit_is_an_expression_error_not_a_value_error() -> None:
    """Bug: a 5,000-digit literal raised Python's 4,300-digit int-str ValueError."""
    with pytest.raises(ExpressionError, match="too long for a number"):
        parse_rational("1" * 5000)
    with pytest.raises(ExpressionError, match="too large a number"):
        evaluate_expression("1" * 5000 + " + 1")


def test_numbers_up_to_the_digit_limit_are_read_exactly() -> None:
    assert parse_rational("9" * MAX_DIGITS) == 10**MAX_DIGITS - 1
    assert parse_rational("1e-3999") == Fraction(1, 10**3999)
    with pytest.raises(ExpressionError, match="exponent"):
        parse_rational("1e-5000")


def test_a_huge_power_is_refused_at_once_instead_of_hanging() -> None:
    """Bug: (10**10000)**10000 ran for ever."""
    start = time.monotonic()
    for text in ("(10**10000)**10000", "(2^9000) ^ 9000", "10^5000", "(1/3)^9000"):
        with pytest.raises(ExpressionError, match="too large"):
            evaluate_expression(text)
    assert time.monotonic() - start < 1
    assert evaluate_expression("(1/2)^10000") == Fraction(1, 2**10000)  # within the limit
    assert evaluate_expression("1^10000") == 1


def test_a_huge_intermediate_product_is_refused() -> None:
    with pytest.raises(ExpressionError, match="too large"):
        evaluate_expression("10^3000 * 10^3000")
    with pytest.raises(ExpressionError, match="too large"):
        evaluate_expression(1 << 20000)


@pytest.mark.parametrize("text", ["-" * 100_000 + "1", "-" * 9_999 + "1", "(" * 150 + "-" * 250 + "1" + ")" * 150])
def test_deeply_nested_expressions_are_refused_cleanly(text: str) -> None:
    """Bug: 100,000 nested unary minus signs raised MemoryError (or RecursionError)."""
    with pytest.raises(ExpressionError, match="too long|nested too deeply"):
        evaluate_expression(text)


def test_a_sum_of_many_terms_within_the_nesting_limit_is_fine() -> None:
    assert evaluate_expression(" + ".join(["1/10"] * 150)) == 15


def test_a_long_bad_number_is_rejected_in_linear_time_and_quoted_short() -> None:
    """Bug: a 50 MB bad token was echoed in full (and the regex backtracked quadratically)."""
    text = "1" * 200_000 + "x"
    start = time.monotonic()
    with pytest.raises(ExpressionError) as excinfo:
        parse_rational(text)
    assert time.monotonic() - start < 1
    assert len(str(excinfo.value)) < 300
    text = "1" * 9_000 + "x"
    start = time.monotonic()
    with pytest.raises(ExpressionError) as excinfo:
        evaluate_expression(text)
    assert time.monotonic() - start < 1
    assert len(str(excinfo.value)) < 300


def test_quote_cuts_long_input() -> None:
    assert quote("abc") == "'abc'"
    cut = quote("x" * 10_000)
    assert len(cut) < 120 and "…" in cut and "10,000 characters" in cut


def test_an_input_error_never_carries_a_megabyte_message() -> None:
    error = InputError(Location("m.tra"), "bad " + "x" * 1_000_000, "fix")
    assert len(str(error)) < 700


# -- the same through the readers and `show` ----------------------------------------------------

@pytest.mark.parametrize("reward, message", [
    ("1" * 5000, "too long for a number"),
    ("-" * 100_000 + "1", "too long"),
    ("(10**10000)**10000", "too large"),
])
def test_model_files_with_oversized_numbers_are_input_errors(tmp_path: Path, reward: str, message: str) -> None:
    with pytest.raises((InputError, InputErrors)) as excinfo:
        load_mdp(one_state_toml(tmp_path, reward))
    text = message_of(excinfo)
    assert message in text and "m.toml" in text and len(text) < 1000


def test_show_reports_a_reward_beyond_the_float_range(tmp_path: Path) -> None:
    """Bug: `proofs show` on a 10**400 reward raised OverflowError."""
    summary = model_summary(load_mdp(one_state_toml(tmp_path, "-10**400")))
    assert summary["rewards"]["r"] == {"min": "-1e+400", "max": "-1e+400"}
    assert "r in [-1e+400, -1e+400]" in render_summary(summary)
    small = model_summary(load_mdp(one_state_toml(tmp_path, "1/3")))
    assert small["rewards"]["r"]["max"] == pytest.approx(1 / 3)


# -- explicit and DRN files: counts checked against the content, indices parsed safely -----------

def run_limited(code: str, memory_bytes: int, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run Python `code` in a child with its address space capped (so a regression fails, not swaps)."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=cap)


LOAD = """
import sys
from proofs.core.errors import InputError, InputErrors
from proofs.worldmodel.load import load_mdp
try:
    load_mdp(sys.argv[1] if len(sys.argv) > 1 else {path!r})
except (InputError, InputErrors) as exc:
    print(exc)
    raise SystemExit(2)
"""


@pytest.mark.parametrize("text, message", [
    ("1000000000 2 3\n0 0 1 0.5\n0 0 0 0.5\n1 0 1 1\n", "the header declares 1,000,000,000 states"),
    ("mdp\n0 0 1 0.5\n0 0 999999999 0.5\n1 0 1 1\n", "state 999999999 is beyond the states that have a choice"),
])
def test_a_claim_of_a_billion_states_is_refused_before_allocating(tmp_path: Path, text: str, message: str) -> None:
    """Bug: a .tra header claiming 1e9 states with three rows allocated 7.45 GiB and died."""
    path = write(tmp_path / "m.tra", text)
    start = time.monotonic()
    out = run_limited(LOAD.format(path=str(path)), 1 << 30)
    assert out.returncode == 2, out.stderr[-2000:]
    assert message in out.stdout and "every state needs at least one" in out.stdout
    assert time.monotonic() - start < 30


def test_a_few_states_without_choices_are_still_reported_one_by_one(tmp_path: Path) -> None:
    with pytest.raises((InputError, InputErrors)) as excinfo:
        load_mdp(write(tmp_path / "m.tra", "5 2 2\n0 0 0 1\n1 0 1 1\n"))
    text = message_of(excinfo)
    assert "state '2' has no actions" in text and "the header declares 5 states" not in text


@pytest.mark.parametrize("name, text, message", [
    ("m.tra", "1" * 5000 + " 2 3\n0 0 0 1\n", "declares a count beyond 18 digits"),
    ("m.tra", "mdp\n0 0 " + "7" * 5000 + " 1\n", "is too large for an index"),
    ("m.tra", "mdp\n0 0 99999999999999999999 1\n", "is too large for an index"),
    ("m.tra", "mdp\n0 0 ² 1\n", "is not a non-negative integer"),
    ("m.drn", "@type: MDP\n@nr_states\n" + "9" * 5000 + "\n@model\n", "at most 18 digits"),
    ("m.drn", "@type: MDP\n@nr_states\n1\n@model\nstate ²\n", "expected state 0"),
    ("m.drn", "@type: MDP\n@nr_states\n1\n@model\nstate 0\naction a\n" + "9" * 5000 + " : 1\n",
     "expected 'target : probability'"),
    ("m.drn", "@type: MDP\n@nr_states\n1\n@model\nstate 0\naction a\n² : 1\n", "expected 'target : probability'"),
])
def test_oversized_or_unicode_indices_are_input_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    """Bug: int() of a 5,000-digit index or of '²' (which isdigit() accepts) raised ValueError."""
    with pytest.raises((InputError, InputErrors)) as excinfo:
        load_mdp(write(tmp_path / name, text))
    assert message in message_of(excinfo) and len(message_of(excinfo)) < 2000


@pytest.mark.parametrize("lab", ['0="init"\n' + "9" * 5000 + ": init\n", '0="init"\n²: init\n',
                                 "#DECLARATION\ninit\n#END\n" + "9" * 5000 + " init\n"])
def test_label_lines_with_bad_state_indices_are_input_errors(tmp_path: Path, lab: str) -> None:
    prism = lab.startswith("0=")
    tra = "2 2 2\n0 0 1 1\n1 0 1 1\n" if prism else "mdp\n0 0 1 1\n1 0 1 1\n"
    write(tmp_path / "m.lab", lab)
    with pytest.raises((InputError, InputErrors)) as excinfo:
        load_mdp(write(tmp_path / "m.tra", tra))
    assert "m.lab:2:" in message_of(excinfo) or "m.lab:4:" in message_of(excinfo)
    assert "is not a state of the model" in message_of(excinfo)


def test_a_reward_header_with_a_huge_count_is_an_input_error(tmp_path: Path) -> None:
    write(tmp_path / "m.srew", "2 " + "9" * 5000 + "\n0 1\n")
    with pytest.raises((InputError, InputErrors)) as excinfo:
        load_mdp(write(tmp_path / "m.tra", "2 2 2\n0 0 1 1\n1 0 1 1\n"))
    assert "m.srew:1:" in message_of(excinfo) and "expected a header of 2 integers" in message_of(excinfo)


def test_a_megabyte_bad_token_is_quoted_short(tmp_path: Path) -> None:
    """Bug: a 50 MB bad line was echoed in full in the error message."""
    path = write(tmp_path / "m.tra", "mdp\n0 0 0 " + "1" * 5_000_000 + "x\n")
    start = time.monotonic()
    with pytest.raises((InputError, InputErrors)) as excinfo:
        load_mdp(path)
    text = message_of(excinfo)
    assert "m.tra:2:" in text and "(5,000,001 characters)" in text and len(text) < 1000
    assert time.monotonic() - start < 10
    path = write(tmp_path / "h.tra", "x" * 2_000_000 + "\n0 0 0 1\n")
    with pytest.raises(InputError) as excinfo:
        load_mdp(path)
    assert "neither 'mdp'" in str(excinfo.value) and len(str(excinfo.value)) < 1000


def test_blank_lines_after_a_header_are_no_rows(tmp_path: Path) -> None:
    """Bug found by fuzzing: a reward file whose rows were all blank raised a numpy broadcast ValueError."""
    write(tmp_path / "m.srew", "2 0\n\n\n")
    write(tmp_path / "m.lab", '0="init"\n0: 0\n')
    assert len(load_mdp(write(tmp_path / "m.tra", '2 2 2\n0 0 1 1\n1 0 1 1\n')).states) == 2
    write(tmp_path / "m.srew", "2 0 3 4\n\n\n")
    with pytest.raises((InputError, InputErrors)) as excinfo:
        load_mdp(tmp_path / "m.tra")
    assert "m.srew:1: expected a header of 2 integers" in message_of(excinfo)


def test_a_json_integer_beyond_python_limit_is_an_input_error(tmp_path: Path) -> None:
    """Bug found by fuzzing: a 5,000-digit JSON integer raised Python's int-str ValueError."""
    path = write(tmp_path / "m.json", '{"states": {"s": {"actions": {"a": {"to": {"s": ' + "9" * 5000 + "}}}}}}")
    with pytest.raises(InputError, match="m.json: a number in the file has more than 4,300 digits"):
        load_mdp(path)


def test_a_location_key_quoting_a_huge_name_is_cut() -> None:
    """Bug found by fuzzing: a key such as initial.s999… (a megabyte state name) made a megabyte message."""
    error = InputError(Location("m.json", 4, "initial.s" + "9" * 100_000), "unknown state 's" + "9" * 100_000 + "'",
                       "Name a state defined under [states]. " + "x" * 10_000)
    assert str(error).startswith("m.json:4:initial.s999") and len(str(error)) < 1200
