"""Reading policies: every format, and every kind of bad input with file, location and fix."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.core.model import Mdp
from proofs.policy.canonical import policy_hash
from proofs.policy.load import load_policy

FORMAT = "proofs.policy/1"


def write_json(tmp_path: Path, document: object, name: str = "policy.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def write_text(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def table_of(mdp: Mdp, policy, step: int = 0) -> dict[str, list[tuple[str, Fraction]]]:
    layer = policy.at(step)
    return {mdp.states[s]: [(mdp.action(c), p) for c, p in layer.distribution(s)]
            for s in range(mdp.n_states) if layer.defined(s)}


# -- JSON ------------------------------------------------------------------------------------
def test_json_stationary_table(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "actions": {"s0": "right", "s1": "right", "s2": "stay"}})
    policy = load_policy(path, corridor, horizon=3)
    assert policy.is_stationary
    assert table_of(corridor, policy) == {"s0": [("right", 1)], "s1": [("right", 1)], "s2": [("stay", 1)]}


def test_json_randomized_probabilities_are_exact(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "actions": {
        "s0": {"left": "1/3", "right": "2/3"}, "s1": {"right": 0.1, "jump": "0.9"}, "s2": "stay", "pit": "stay"}})
    table = table_of(corridor, load_policy(path, corridor, horizon=None))
    assert table["s0"] == [("left", Fraction(1, 3)), ("right", Fraction(2, 3))]
    assert table["s1"] == [("right", Fraction(1, 10)), ("jump", Fraction(9, 10))]


def test_json_number_is_read_from_its_decimal_text(tmp_path, corridor):
    # 0.1 + 0.2 + 0.7 is not 1 in binary floats, but it is exactly 1 as decimals
    path = write_json(tmp_path, {"format": FORMAT, "actions": {"s0": {"left": 0.1, "right": 0.2}, "s1": "left"}})
    text = path.read_text().replace("0.2", "0.9")
    path.write_text(text)
    assert load_policy(path, corridor, horizon=5).is_stationary


def test_json_errors_are_all_reported_with_their_keys(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "actions": {
        "s0": {"left": "0.3", "right": "0.6"},
        "s1": "fly",
        "nowhere": "left",
        "s2": {"stay": "abc"},
        "pit": {"stay": "-1", "other": "2"},
    }})
    with pytest.raises(InputErrors) as info:
        load_policy(path, corridor, horizon=3)
    text = str(info.value)
    assert 'policy.json:actions."s0": the probabilities of state \'s0\' sum to 9/10, not 1' in text
    assert "actions.\"s1\": 'fly' is not an action of state 's1'. Use one of its actions: left, right, jump" in text
    assert "'nowhere' is not a state of model.json" in text
    assert 'actions."s2"."stay"' in text and "'abc' is not a number" in text
    assert "probability -1 is outside [0, 1]" in text
    assert len(info.value.errors) == 6


def test_json_nan_and_duplicate_keys(tmp_path, corridor):
    path = tmp_path / "p.json"
    path.write_text('{"format": "proofs.policy/1", "actions": {"s0": {"right": NaN}, "s1": "left", "s1": "right"}}')
    with pytest.raises(InputErrors) as info:
        load_policy(path, corridor, horizon=3)
    assert "NaN is not a probability" in str(info.value)
    assert "state 's1' is given twice" in str(info.value)


def test_json_syntax_error_names_the_line(tmp_path, corridor):
    path = write_text(tmp_path, '{"format": "proofs.policy/1",\n "actions": {"s0": }}', "p.json")
    with pytest.raises(InputError, match=r"p.json:2: not valid JSON"):
        load_policy(path, corridor, horizon=3)


def test_json_format_and_shape_errors(tmp_path, corridor):
    path = write_json(tmp_path, {"format": "other", "actions": {}, "steps": [], "extra": 1})
    with pytest.raises(InputErrors) as info:
        load_policy(path, corridor, horizon=3)
    text = str(info.value)
    assert 'format: expected "format": "proofs.policy/1"' in text
    assert "extra: unknown key 'extra'" in text
    assert 'give exactly one of "actions" and "steps"' in text


def test_missing_file_is_an_input_error(tmp_path, corridor):
    with pytest.raises(InputError, match="cannot read the policy file"):
        load_policy(tmp_path / "absent.json", corridor, horizon=3)


def test_unknown_extension_is_an_input_error(tmp_path, corridor):
    with pytest.raises(InputError, match="unknown policy format '.yaml'"):
        load_policy(tmp_path / "p.yaml", corridor, horizon=3)


# -- reached states --------------------------------------------------------------------------
def test_missing_reached_state_is_named(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "actions": {"s0": "right", "s2": "stay"}})
    with pytest.raises(InputError) as info:
        load_policy(path, corridor, horizon=3)
    assert ("policy.json:actions.\"s1\": the policy reaches state 's1' at step 1 but gives it no action."
            in str(info.value))
    assert "Add an entry for 's1' (its actions: left, right, jump)" in str(info.value)


def test_first_missing_state_is_by_step_then_model_order(tmp_path, corridor):
    # from s1, 'jump' reaches s2 and pit at step 2, both undefined: s2 comes first in the model
    path = write_json(tmp_path, {"format": FORMAT, "actions": {"s0": "right", "s1": "jump"}})
    with pytest.raises(InputError, match=r"reaches state 's2' at step 2 but gives it no action "
                                         r"\(1 more reached at that step have no action either\)"):
        load_policy(path, corridor, horizon=3)


def test_states_reached_only_after_the_last_action_need_no_entry(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "actions": {"s0": "right"}})
    assert load_policy(path, corridor, horizon=1).is_stationary
    with pytest.raises(InputError, match="reaches state 's1' at step 1"):
        load_policy(path, corridor, horizon=2)


def test_geometric_horizon_needs_every_reachable_state(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "actions": {"s0": "right", "s1": "right"}})
    assert load_policy(path, corridor, horizon=2)
    with pytest.raises(InputError, match="reaches state 's2' at step 2"):
        load_policy(path, corridor, horizon=None)


def test_zero_probability_actions_do_not_reach(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "actions": {"s0": {"left": "1", "right": "0"}}})
    policy = load_policy(path, corridor, horizon=None)
    assert table_of(corridor, policy) == {"s0": [("left", 1)]}


def test_unreachable_entries_are_dropped_from_the_result(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "actions": {
        "s0": "right", "s1": "right", "s2": "stay", "far": "left", "pit": "stay"}})
    assert set(table_of(corridor, load_policy(path, corridor, horizon=10))) == {"s0", "s1", "s2"}


# -- per-step --------------------------------------------------------------------------------
def test_per_step_json_last_table_repeats(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "steps": [
        {"s0": "left"}, {"s0": "right", "s1": "right", "s2": "stay"}]})
    policy = load_policy(path, corridor, horizon=6)
    assert len(policy.layers) == 2
    assert table_of(corridor, policy, 0) == {"s0": [("left", 1)]}
    assert table_of(corridor, policy, 5) == {"s0": [("right", 1)], "s1": [("right", 1)], "s2": [("stay", 1)]}


def test_per_step_missing_state_names_its_step_table(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "steps": [{"s0": "right"}, {"s0": "right"}]})
    with pytest.raises(InputError, match=r'steps\[1\]\."s1": the policy reaches state \'s1\' at step 1'):
        load_policy(path, corridor, horizon=3)


def test_per_step_tables_beyond_the_horizon_are_ignored(tmp_path, corridor):
    path = write_json(tmp_path, {"format": FORMAT, "steps": [{"s0": "right"}, {"s1": "right"}, {"s0": "fly"}]})
    with pytest.raises(InputError, match="'fly' is not an action"):
        load_policy(path, corridor, horizon=2)  # entries are still validated
    good = write_json(tmp_path, {"format": FORMAT, "steps": [{"s0": "right"}, {"s1": "right"}, {"s0": "left"}]},
                      "good.json")
    short = write_json(tmp_path, {"format": FORMAT, "steps": [{"s0": "right"}, {"s1": "right"}]}, "short.json")
    h = [policy_hash(corridor, load_policy(p, corridor, horizon=2), 2) for p in (good, short)]
    assert h[0] == h[1]


# -- CSV -------------------------------------------------------------------------------------
def test_csv_with_and_without_header(tmp_path, corridor):
    plain = write_text(tmp_path, "s0,right\ns1,right\ns2,stay\n", "a.csv")
    header = write_text(tmp_path, "state,action,probability\n# comment\n\ns0,right,1\ns1, right ,1.0\ns2,stay,1\n",
                        "b.csv")
    hashes = {policy_hash(corridor, load_policy(p, corridor, horizon=3), 3) for p in (plain, header)}
    assert len(hashes) == 1


def test_csv_randomized_rows_form_one_distribution(tmp_path, corridor):
    path = write_text(tmp_path, "s0,left,1/4\ns0,right,0.75\ns1,left\n", "p.csv")
    table = table_of(corridor, load_policy(path, corridor, horizon=3))
    assert table["s0"] == [("left", Fraction(1, 4)), ("right", Fraction(3, 4))]


def test_csv_per_step_needs_the_step_header(tmp_path, corridor):
    path = write_text(tmp_path, "step,state,action\n0,s0,left\n1,s0,right\n1,s1,right\n1,s2,stay\n", "p.csv")
    assert len(load_policy(path, corridor, horizon=5).layers) == 2


def test_csv_errors_name_their_lines(tmp_path, corridor):
    path = write_text(tmp_path, "s0,right,1/2\ns1\ns2,stay,x\ns0,right,1/2\n", "p.csv")
    with pytest.raises(InputErrors) as info:
        load_policy(path, corridor, horizon=3)
    text = str(info.value)
    assert "p.csv:2: expected state,action[,probability], got 1 field(s)" in text
    assert "p.csv:3: 'x' is not a number" in text
    assert "p.csv:4: action 'right' is given twice" in text


def test_csv_step_gaps_and_bad_headers(tmp_path, corridor):
    gap = write_text(tmp_path, "step,state,action\n0,s0,right\n2,s1,right\n", "gap.csv")
    with pytest.raises(InputError, match="no rows for step 1"):
        load_policy(gap, corridor, horizon=3)
    bad = write_text(tmp_path, "state,act\ns0,right\n", "bad.csv")
    with pytest.raises(InputError, match="bad.csv:1: unknown header 'state,act'"):
        load_policy(bad, corridor, horizon=3)


# -- Python callables ------------------------------------------------------------------------
POLICY_CODE = '''
from fractions import Fraction
calls = []

def act(state, labels):
    calls.append(state)
    assert isinstance(labels, frozenset)
    return {"s0": "right", "s1": {"right": 0.5, "jump": Fraction(1, 2)}}.get(state, "stay")

def goal_aware(state, labels):
    return "stay" if "goal" in labels or "fatal" in labels else "right"

def partial(state, labels):
    return "right" if state == "s0" else None

def broken(state, labels):
    raise RuntimeError("boom")
'''


@pytest.fixture
def code_file(tmp_path) -> Path:
    return write_text(tmp_path, POLICY_CODE, "mypolicy.py")


def test_code_needs_allow_code(code_file, corridor):
    with pytest.raises(InputError, match="Pass --allow-code to run it"):
        load_policy(f"{code_file}:act", corridor, horizon=3)


def test_code_is_called_once_per_reached_state_only(code_file, corridor):
    policy = load_policy(f"{code_file}:act", corridor, allow_code=True, horizon=None)
    table = table_of(corridor, policy)
    assert table["s1"] == [("right", Fraction(1, 2)), ("jump", Fraction(1, 2))]
    assert set(table) == {"s0", "s1", "s2", "pit"}  # never called for 'far'


def test_code_receives_labels(code_file, corridor):
    policy = load_policy(f"{code_file}:goal_aware", corridor, allow_code=True, horizon=None)
    assert table_of(corridor, policy)["s2"] == [("stay", 1)]


def test_code_returning_none_names_the_state(code_file, corridor):
    with pytest.raises(InputError, match=r"state 's1': the policy reaches state 's1' at step 1 .*instead of None"):
        load_policy(f"{code_file}:partial", corridor, allow_code=True, horizon=3)


def test_code_raising_is_an_input_error(code_file, corridor):
    with pytest.raises(InputError, match="the policy function raised RuntimeError: boom"):
        load_policy(f"{code_file}:broken", corridor, allow_code=True, horizon=3)


def test_code_import_failure_is_an_input_error(tmp_path, corridor):
    with pytest.raises(InputError, match="cannot load the policy code"):
        load_policy("no_such_module_here:act", corridor, allow_code=True, horizon=3)
    with pytest.raises(InputError, match="cannot load the policy code"):
        load_policy(f"{tmp_path}/missing.py:act", corridor, allow_code=True, horizon=3)


def test_code_from_an_importable_module(code_file, corridor, monkeypatch):
    monkeypatch.syspath_prepend(str(code_file.parent))
    policy = load_policy("mypolicy:goal_aware", corridor, allow_code=True, horizon=3)
    assert table_of(corridor, policy)["s0"] == [("right", 1)]


# -- Q-tables --------------------------------------------------------------------------------
def test_q_table_is_greedy_with_ties_to_the_lowest_action(tmp_path, grid_like):
    q = np.array([[1.0, 2.0], [5.0, 5.0], [0.0, -1.0], [3.0, 3.0]])
    path = tmp_path / "q.npy"
    np.save(path, q)
    table = table_of(grid_like, load_policy(path, grid_like, horizon=None))
    assert table == {"0": [("1", 1)], "1": [("0", 1)], "2": [("0", 1)], "3": [("0", 1)]}


def test_q_table_integer_dtype(tmp_path, grid_like):
    path = tmp_path / "q.npy"
    np.save(path, np.array([[0, 7], [2, 1], [1, 1], [0, 0]], dtype=np.uint8))
    assert table_of(grid_like, load_policy(path, grid_like, horizon=None))["0"] == [("1", 1)]


def test_q_table_shape_must_match_the_model(tmp_path, grid_like, corridor):
    path = tmp_path / "q.npy"
    np.save(path, np.zeros((3, 2)))
    with pytest.raises(InputError, match="the Q-table has 3 rows, but the model has 4 states"):
        load_policy(path, grid_like, horizon=3)
    np.save(path, np.zeros((4, 1)))
    with pytest.raises(InputError, match="action '1' of the model is not a column"):
        load_policy(path, grid_like, horizon=3)
    np.save(path, np.zeros((5, 2)))
    with pytest.raises(InputError, match="A Q-table needs a model from `proofs import gym`"):
        load_policy(path, corridor, horizon=3)


def test_q_table_rejects_nan(tmp_path, grid_like):
    path = tmp_path / "q.npy"
    np.save(path, np.array([[0.0, 1.0], [np.nan, 0.0], [0.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(InputError, match="q.npy:row 1: the Q-table holds NaN"):
        load_policy(path, grid_like, horizon=3)


def test_hash_is_the_same_over_the_model_read_from_a_file(tmp_path, corridor):
    load = pytest.importorskip("proofs.worldmodel.load")
    states = {
        "s0": {"actions": {"left": {"to": {"s0": "1"}}, "right": {"to": {"s1": "1"}}}},
        "s1": {"actions": {"left": {"to": {"s0": "1"}}, "right": {"to": {"s2": "1"}},
                           "jump": {"to": {"s2": "1/2", "pit": "1/2"}}}},
        "s2": {"labels": ["goal"], "actions": {"stay": {"to": {"s2": "1"}}}},
        "pit": {"labels": ["fatal"], "actions": {"stay": {"to": {"pit": "1"}}}},
        "far": {"actions": {"left": {"to": {"far": "1"}}, "right": {"to": {"s2": "1"}}}},
    }
    model = write_json(tmp_path, {"initial": "s0", "states": states}, "corridor.json")
    policy = write_json(tmp_path, {"format": FORMAT, "actions": {"s0": "right", "s1": {"jump": "1/2", "right": "1/2"},
                                                                 "s2": "stay", "pit": "stay"}})
    mdp = load.load_mdp(model)
    assert (policy_hash(mdp, load_policy(policy, mdp, horizon=4), 4)
            == policy_hash(corridor, load_policy(policy, corridor, horizon=4), 4))
