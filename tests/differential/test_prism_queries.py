"""`proofs eval` on a PRISM program as a Storm user types it, against Storm (issue: PRISM users).

Constants from the command line, Pmax/Pmin/R queries with and without a horizon, expected reward
until a target (infinite included), variable atoms over a constant, and the unbounded reading.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from proofs.cli import main

stormpy = pytest.importorskip("stormpy")

COUNTER = Path(__file__).resolve().parents[1] / "worlds" / "prism" / "counter.nm"
QUERIES = [
    ('Pmax=? [ F<=10 "goal" ]', None),
    ('Pmin=? [ F<=10 "goal" ]', None),
    ('R{"steps"}max=? [ C<=6 ]', None),
    ('R{"steps"}min=? [ C<=6 ]', None),
    ('Pmax=? [ F "goal" ]', "unbounded"),
    ('Pmin=? [ F "goal" ]', "unbounded"),
    ('Pmax=? [ F t>=deadline & s=2 ]', "unbounded"),
    ('Pmax=? [ s<N U t>=deadline ]', "unbounded"),
    ('Pmin=? [ G s<3 ]', "unbounded"),
    ('Pmax=? [ F s+t>=N+2 & 2*s-t<1 ]', "unbounded"),
    ('Pmax=? [ F<=10 t-s>=N-1 ]', None),
    ('R{"steps"}min=? [ F "goal" ]', "unbounded"),
    ('R{"steps"}max=? [ F t=10 ]', "unbounded"),
]


def storm_value(query: str, constants: dict[str, str]) -> str:
    program = stormpy.parse_prism_program(str(COUNTER))
    manager = program.expression_manager
    values = {program.get_constant(name).expression_variable:
              manager.integer(int(v)) if "/" not in v else manager.rational(stormpy.Rational(v))
              for name, v in constants.items()}
    program = program.define_undefined_constants(values).substitute_constants()
    props = stormpy.parse_properties(query, program)
    model = stormpy.build_model[stormpy.Rational](program, props)
    result = stormpy.model_checking(model, props[0])
    return str(result.get_value(model.initial_states[0]))


def run_eval(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(COUNTER), *args])
    return int(exit_info.value.code or 0), capsys.readouterr().out


@pytest.mark.parametrize("constants", [{"N": "4", "p": "1/2"}, {"N": "3", "p": "1/10"}])
@pytest.mark.parametrize(("query", "horizon"), QUERIES)
def test_eval_queries_agree_with_storm(capsys: pytest.CaptureFixture[str], query: str, horizon: str | None,
                                       constants: dict[str, str]) -> None:
    const = ",".join(f"{k}={v}" for k, v in constants.items())
    args = ["--const", const, "--property", query, "--json"] + (["--horizon", horizon] if horizon else [])
    code, out = run_eval(capsys, *args)
    assert code == 0
    row = json.loads(out)["queries"][0]
    expected = storm_value(query, constants)
    if expected == "inf":
        assert row["value"] == "inf"
        return
    assert row["value"]["lo"] == row["value"]["hi"], "small models are evaluated exactly"
    assert Fraction(row["value"]["lo"]) == Fraction(expected)


def test_unbounded_formula_without_horizon_asks_for_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(COUNTER), "--const", "N=4,p=1/2", "--property", 'Pmax=? [ F "goal" ]'])
    assert exit_info.value.code == 2
    assert "--horizon unbounded" in capsys.readouterr().err


def test_finite_horizon_reading_is_said_in_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    """`P>=1 [ F "goal" ]` at H = 20 said VIOLATED with no word that Storm reads F as eventually."""
    code, out = run_eval(capsys, "--const", "N=4,p=1/2", "--horizon", "20", "--property", 'P>=1 [ F "goal" ]')
    assert code == 0
    assert "s0 ... s_20" in out and "eventually" in out


def test_missing_constant_names_the_command_line_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(COUNTER), "--const", "N=4", "--property", 'Pmax=? [ F<=3 "goal" ]'])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "constants without a value: p" in err and "--const" in err


def test_constant_errors_are_reported_together(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["show", str(COUNTER), "--const", "N=1/2,p=1/2,deadline=4,q=1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "int constant needs an integer" in err and "already has a value" in err and "no undefined constant 'q'" in err


def test_atom_over_unknown_variable_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(COUNTER), "--const", "N=4,p=1/2", "--property", "Pmax=? [ F<=3 z=1 ]"])
    assert exit_info.value.code == 2
    assert "'z' is neither a variable" in capsys.readouterr().err


def test_constants_for_a_toml_model_are_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    cliff = Path(__file__).resolve().parents[2] / "worldmodels" / "cliff.toml"
    with pytest.raises(SystemExit) as exit_info:
        main(["show", str(cliff), "--const", "N=4"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("query", ['Pmax=? [ F<=10 "goal" ]', 'Pmin=? [ F<=10 t>=deadline ]', 'R{"steps"}max=? [ C<=6 ]'])
def test_the_optimal_policy_can_be_saved_and_attains_the_optimum(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                                 query: str) -> None:
    saved = tmp_path / "best.json"
    code, out = run_eval(capsys, "--const", "N=4,p=1/2", "--property", query, "--save-policy", str(saved), "--json")
    assert code == 0
    best = json.loads(out)["queries"][0]["value"]
    policy_query = query.replace("max=?", "=?").replace("min=?", "=?")
    code, out = run_eval(capsys, "--const", "N=4,p=1/2", "--property", policy_query, "--policy", str(saved), "--json")
    assert code == 0
    assert json.loads(out)["queries"][0]["value"] == best


def test_an_unbounded_optimal_policy_is_saved_as_a_stationary_table(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    saved = tmp_path / "best.json"
    code, _ = run_eval(capsys, "--const", "N=4,p=1/2", "--horizon", "unbounded", "--property", 'Pmax=? [ F "goal" ]',
                       "--save-policy", str(saved))
    assert code == 0
    document = json.loads(saved.read_text())
    assert document["format"] == "proofs.policy/1" and "actions" in document


def test_save_policy_needs_one_optimised_query(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(COUNTER), "--const", "N=4,p=1/2", "--property", 'Pmax=? [ F<=3 "goal" ]',
              "--property", 'Pmin=? [ F<=3 "goal" ]', "--save-policy", str(tmp_path / "p.json")])
    assert exit_info.value.code == 2
    assert "exactly one optimised property" in capsys.readouterr().err


def test_a_stationary_policy_is_evaluated_unbounded(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The optimal stationary policy Storm's reading asks for attains Storm's Pmax under the policy."""
    saved = tmp_path / "best.json"
    args = ["--const", "N=4,p=1/2", "--horizon", "unbounded"]
    assert run_eval(capsys, *args, "--property", 'Pmax=? [ F "goal" ]', "--save-policy", str(saved))[0] == 0
    code, out = run_eval(capsys, *args, "--property", 'P=? [ F "goal" ]', "--policy", str(saved), "--json")
    assert code == 0
    value = json.loads(out)["queries"][0]["value"]
    assert Fraction(value["lo"]) == Fraction(value["hi"]) == Fraction(storm_value('Pmax=? [ F "goal" ]',
                                                                                 {"N": "4", "p": "1/2"}))


def test_a_policy_that_resets_never_reaches_the_goal_unbounded(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    """The second [tick] command resets s to 0: used at every step, the goal is never reached."""
    from proofs.worldmodel.load import load_mdp

    model = load_mdp(COUNTER, constants={"N": "4", "p": "1/2"})
    policy = tmp_path / "reset.json"
    actions = {name: "tick#2" if "tick#2" in model.local_actions(s) else "tick" for s, name in enumerate(model.states)}
    policy.write_text(json.dumps({"format": "proofs.policy/1", "actions": actions}))
    code, out = run_eval(capsys, "--const", "N=4,p=1/2", "--horizon", "unbounded", "--property",
                         'P=? [ F "goal" ]', "--property", 'R{"steps"}=? [ F "goal" ]', "--policy", str(policy),
                         "--json")
    assert code == 0, out
    rows = json.loads(out)["queries"]
    assert rows[0]["value"] == {"lo": "0", "hi": "0"} and rows[1]["value"] == "inf"


def test_a_per_step_policy_has_no_unbounded_reading(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """On jump.nm state s=0 recurs, so a policy that steps first and jumps later is not stationary."""
    jump = COUNTER.parent / "jump.nm"
    steps = [{f"s={s}": "step" if s < 3 else "done" for s in range(4)},
             {f"s={s}": "jump" if s < 3 else "done" for s in range(4)}]
    saved = tmp_path / "steps.json"
    saved.write_text(json.dumps({"format": "proofs.policy/1", "steps": steps}))
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(jump), "--const", "N=3,p=9/10", "--horizon", "unbounded", "--property",
              'P=? [ F "goal" ]', "--policy", str(saved)])
    assert exit_info.value.code == 2
    assert "changes from step to step" in capsys.readouterr().err


def test_p_query_on_an_mdp_without_a_policy_asks_for_one(capsys: pytest.CaptureFixture[str]) -> None:
    # a DTMC's P=? is answered (tests/differential/test_published_models.py); an MDP has many policies
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(COUNTER), "--const", "N=4,p=1/2", "--property", 'P=? [ F<=3 "goal" ]'])
    assert exit_info.value.code == 2
    assert "no --policy is given" in capsys.readouterr().err
