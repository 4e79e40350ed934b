"""The float path of the lagrangian engine and its kernel checker (`check_alignment_float`).

The float path must agree with the exact engine (its enclosure contains the exact worst value and
is at most 1e-6 wide), and the kernel must reject every forged certificate.
"""

import copy
from fractions import Fraction

import numpy as np
import pytest
from tests.support.mdps import grid_mdp, random_mdp

from proofs.core.certificates import AlignmentBody, Mixture
from proofs.core.errors import CheckFailure
from proofs.core.formula import (
    Comparison,
    Eventually,
    Globally,
    Label,
    Not,
    ProbabilityConstraint,
    RewardConstraint,
    Until,
)
from proofs.core.objective import Objective
from proofs.core.rational import format_rational
from proofs.core.schema import validate_fields
from proofs.core.statement import objective_data
from proofs.engines.alignment import certificate_fields
from proofs.engines.lagrangian import discharge_alignment
from proofs.engines.lagrangian_float import discharge_float
from proofs.kernel.check_alignment_float import check_float_alignment, decode_step_tables, float_space
from proofs.kernel.horizon import restrict
from proofs.operators import ChoiceLayout
from proofs.operators import layout as slots

F = Fraction
LE, LT, GE = Comparison.LE, Comparison.LT, Comparison.GE
FATAL, GOAL = Label("fatal"), Label("goal")
OBJECTIVE = Objective("r", 8)
EPS = F(1, 2)


@pytest.fixture(scope="module")
def model():
    return random_mdp(200)


CATALOGUE = [
    ProbabilityConstraint(LE, F(1, 20), Eventually(FATAL)),
    ProbabilityConstraint(LE, F(1, 2), Eventually(FATAL, 3)),
    ProbabilityConstraint(GE, F(1, 2), Globally(Not(FATAL))),
    ProbabilityConstraint(GE, F(1, 100), Until(Not(FATAL), GOAL)),
    RewardConstraint("r", LE, F(7)),
]


def check(result, mdp, objective, eps, constraints, fields=None, arrays=None):
    """Read the (forged) fields as the kernel does (the schema, then the typed body), then check them."""
    fields = {**(certificate_fields(result) if fields is None else fields), "objective": objective_data(objective),
              "epsilon": format_rational(eps)}
    status = validate_fields(fields, "alignment", ("values", "witness", "counterexample", "reason"))
    check_float_alignment(AlignmentBody.from_json(fields), status, mdp, objective, eps, constraints,
                          result.arrays if arrays is None else arrays)


@pytest.fixture(params=["slots", "slots in many blocks on two threads", "padded rows"])
def layout(request, monkeypatch):
    """The search's and the fast operators' layouts: the default, tiny blocks (so both threads
    work), and no slots at all (the padded sparse-matrix search and the plain passes)."""
    if request.param == "slots in many blocks on two threads":
        monkeypatch.setattr(slots, "BLOCK", 16)
    elif request.param == "padded rows":
        monkeypatch.setattr(slots, "PADDING", 0.0)
    return request.param


@pytest.mark.parametrize("constraint", CATALOGUE, ids=str)
def test_float_path_agrees_with_the_exact_engine(model, constraint, layout):
    exact = discharge_alignment(model, OBJECTIVE, EPS, [constraint])
    floated = discharge_float(model, OBJECTIVE, EPS, [constraint])
    check(floated, model, OBJECTIVE, EPS, [constraint])
    truth, enclosure = exact.constraints[0].worst.value, floated.constraints[0].worst
    # 1e-6 wide while undecided; Storm's multi-objective precision (1e-4, relative) once decided
    width = F(1, 10**6) if floated.constraints[0].holds is None else F(1, 10**4) * (1 + abs(truth)) + F(1, 10**6)
    assert enclosure.lo <= truth <= enclosure.hi and enclosure.width <= width
    assert floated.status == exact.status and floated.witness["arithmetic"] == "float"


def test_discount_and_two_constraints(model):
    objective = Objective("r", 6, F(9, 10))
    phi = CATALOGUE[:2]
    exact = discharge_alignment(model, objective, F(1, 4), phi)
    floated = discharge_float(model, objective, F(1, 4), phi)
    check(floated, model, objective, F(1, 4), phi)
    for e, f in zip(exact.constraints, floated.constraints):
        assert f.worst.lo <= e.worst.value <= f.worst.hi
    assert [c.holds for c in exact.constraints] == [c.holds for c in floated.constraints]


def test_large_models_take_the_float_path_and_small_restrictions_the_exact_one():
    big = random_mdp(3000)
    r = discharge_alignment(big, Objective("r", 20), F(2), [CATALOGUE[0]], margin=True)
    assert r.witness.get("arithmetic") == "float" and r.status in ("proved", "refuted")
    assert r.margin is None and "epsilon* is computed on the exact path only" in r.reason
    grid = grid_mdp(60)   # H = 3 sees ten states: exact
    assert "arithmetic" not in discharge_alignment(grid, Objective("r", 3), F(0), [CATALOGUE[0]]).witness


def test_epsilon_zero_with_exact_zero_values_is_decided():
    """A grid whose goal is out of reach: J ≡ 0, every policy is optimal, exact zeros carry no error."""
    grid = grid_mdp(40)
    phi = [ProbabilityConstraint(LE, F(1, 2), Eventually(FATAL, 12))]
    r = discharge_float(grid, Objective("r", 12), F(0), phi)
    check(r, grid, Objective("r", 12), F(0), phi)
    assert r.status == "refuted" and r.j_star.lo == r.j_star.hi == 0


@pytest.mark.parametrize("hint", [0.0, 1e-9, 0.3, 1e6])
def test_wrong_lambda_hints_change_nothing_but_time(model, hint):
    phi = CATALOGUE[:1]
    plain = discharge_float(model, OBJECTIVE, EPS, phi)
    hinted = discharge_float(model, OBJECTIVE, EPS, phi, hints={"lambda": hint})
    check(hinted, model, OBJECTIVE, EPS, phi)
    assert hinted.status == plain.status
    a, b = plain.constraints[0].worst, hinted.constraints[0].worst
    assert max(a.lo, b.lo) <= min(a.hi, b.hi)   # both contain the true worst value


# -- forged certificates: one per rejection path ------------------------------------------------
@pytest.fixture(scope="module")
def refuted(model):
    phi = [CATALOGUE[0]]
    r = discharge_float(model, OBJECTIVE, EPS, phi)
    assert r.status == "refuted"
    return r, phi


@pytest.fixture(scope="module")
def proved(model):
    phi = [ProbabilityConstraint(LE, F(1, 2), Eventually(FATAL))]
    r = discharge_float(model, OBJECTIVE, EPS, phi)
    assert r.status == "proved" and r.constraints[0].lam > 0
    return r, phi


def forge(case, edit):
    result, phi = case
    fields = copy.deepcopy(certificate_fields(result))
    arrays = {k: v.copy() for k, v in result.arrays.items()}
    edit(fields, arrays)
    return result, phi, fields, arrays


def components(f):
    """Every float component of a certificate's fields (witness and counterexample)."""
    found = []
    def walk(x):
        if isinstance(x, dict):
            if "step_tables" in x:
                found.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(f)
    return found


def as_plain(model, phi, f, a, encoding="plain"):
    """Rewrite a float witness with (L, n) step tables, plain or delta, for edits that address a
    step and a state (the engine writes the changes from one step to the next)."""
    small = restrict(model, OBJECTIVE.horizon)
    shape = (float_space(small, OBJECTIVE, phi[0]).steps, small.n_states)
    for name in list(a):
        dense = decode_step_tables(a[name], "changes", shape, "test")
        if encoding == "delta":
            dense[:-1] -= dense[1:].copy()
        a[name] = dense.astype(np.int8)
    for part in components(f):
        part["encoding"] = encoding


def rejected(model, forged, match):
    result, phi, fields, arrays = forged
    with pytest.raises(CheckFailure, match=match):
        check(result, model, OBJECTIVE, EPS, phi, fields, arrays)


def test_untampered_certificates_are_accepted(model, refuted, proved):
    for result, phi in (refuted, proved):
        check(result, model, OBJECTIVE, EPS, phi)


def test_zero_lambda_does_not_bound_the_worst_value(model, proved):
    def edit(f, a):
        f["witness"]["constraints"][0]["lambda"] = "0"
        f["values"]["constraints"][0]["worst"] = {"lo": "0", "hi": "1"}
    rejected(model, forge(proved, edit), "does not satisfy")


def test_negative_lambda(model, proved):
    rejected(model, forge(proved, lambda f, a: f["witness"]["constraints"][0].update({"lambda": "-1"})), "< 0")


def test_shrunk_worst_enclosure(model, refuted):
    def edit(f, a):
        f["values"]["constraints"][0]["worst"] = {"lo": "0", "hi": "0"}
    rejected(model, forge(refuted, edit), "does not contain")


def test_altered_j_star(model, refuted):
    rejected(model, forge(refuted, lambda f, a: f["values"].update({"j_star": {"lo": "0", "hi": "0"}})), "J\\* step")


def test_weights_not_summing_to_one(model, refuted):
    def edit(f, a):
        f["witness"]["constraints"][0]["attained"]["mixture"][0]["weight"] = "2"
    rejected(model, forge(refuted, edit), "sum to")


def test_a_worse_policy_in_the_mixture_is_not_epsilon_optimal(model, refuted):
    def edit(f, a):
        for name in a:
            a[name][:] = 0   # always the first action: far from optimal
    rejected(model, forge(refuted, edit), "not certainly")


def test_a_table_naming_no_action(model, refuted):
    def edit(f, a):
        as_plain(model, refuted[1], f, a)
        for name in a:
            a[name][0, :] = 120
    rejected(model, forge(refuted, edit), "names no action")


@pytest.mark.parametrize("encoding", ["plain", "delta", "changes"])
def test_a_step_naming_no_action_is_reported_with_its_step_and_state(model, refuted, encoding):
    result, phi = refuted
    name = next(iter(result.arrays))
    small = restrict(model, OBJECTIVE.horizon)
    stop = float_space(small, OBJECTIVE, phi[0]).stop
    bad_state, middle = int(np.flatnonzero(~stop)[-1]), OBJECTIVE.horizon // 2

    def edit(f, a):
        if encoding == "changes":   # a change at step `middle`, undone at the step before
            rows = a[name]
            at = int(np.searchsorted(-rows[:, 0], -middle))
            extra = np.array([[middle, bad_state, 100], [middle - 1, bad_state, 0]], dtype=rows.dtype)
            a[name] = np.concatenate([rows[:at], extra[:1], rows[at:]])
            at = int(np.searchsorted(-a[name][:, 0], -(middle - 1)))
            a[name] = np.concatenate([a[name][:at], extra[1:], a[name][at:]])
        else:
            as_plain(model, phi, f, a, encoding)
            a[name][middle, bad_state] += 100

    rejected(model, forge(refuted, edit), f"step {middle} names no action of state {small.states[bad_state]!r}")


@pytest.mark.parametrize("rows", [[[3, 0, 0], [5, 0, 0]], [[8, 0, 0]], [[-1, 0, 0]], [[0, 200, 0]], [[0, 0]]],
                         ids=["increasing steps", "step past L", "negative step", "state past n", "two columns"])
def test_malformed_changes(model, refuted, rows):
    def edit(f, a):
        for name in a:
            a[name] = np.array(rows, dtype=np.int32)
    rejected(model, forge(refuted, edit), "changes must be rows")


def test_missing_step_tables(model, refuted):
    result, phi, fields, _ = forge(refuted, lambda f, a: None)
    with pytest.raises(CheckFailure, match="not in the witness file"):
        check(result, model, OBJECTIVE, EPS, phi, fields, {})


def test_wrong_state_count(model, refuted):
    rejected(model, forge(refuted, lambda f, a: f["witness"].update({"states": 3})), "witness step")


def test_proved_verdict_on_a_violated_constraint(model, refuted):
    def edit(f, a):
        f["status"] = "proved"
        del f["counterexample"]   # a proved certificate has none
        f["values"]["constraints"][0]["holds"] = True
        f["values"]["constraints"][0]["worst"] = {"lo": "0", "hi": "1"}
    rejected(model, forge(refuted, edit), "does not satisfy")


def test_counterexample_that_does_not_violate(model, proved):
    def edit(f, a):
        f["status"] = "refuted"
        f["values"]["constraints"][0]["holds"] = None
        f["counterexample"] = {"constraint": 0, **f["witness"]["constraints"][0]["attained"]}
    result, phi, fields, arrays = forge(proved, edit)
    with pytest.raises(CheckFailure, match="does not satisfy|certainly violate"):
        check(result, model, OBJECTIVE, EPS, phi, fields, arrays)


def test_tables_of_the_wrong_shape(model, refuted):
    def edit(f, a):
        as_plain(model, refuted[1], f, a)
        for name in list(a):
            a[name] = a[name][:, :5]
    rejected(model, forge(refuted, edit), "shape")


def test_reported_violation_that_is_not_certain(model, proved):
    def edit(f, a):
        f["values"]["constraints"][0]["holds"] = False
    rejected(model, forge(proved, edit), "certainly violate|does not satisfy")


def test_geometric_horizon_is_rejected_by_the_float_checker(model, refuted):
    result, phi = refuted
    with pytest.raises(CheckFailure, match="finite horizon"):
        check(result, model, Objective("r", None, F(9, 10)), EPS, phi)


def test_tables_are_written_as_their_changes(refuted):
    result, _ = refuted
    small_states = 200
    for a in result.arrays.values():
        assert a.dtype == np.int32 and a.shape[1] == 3
        assert len(a) < OBJECTIVE.horizon * small_states / 2   # far below the dense L·n tables


def test_witness_memory_does_not_grow_with_the_horizon():
    """A policy that settles keeps its witness size as H grows tenfold: only changes are stored
    (the dense step tables, L·n entries, would grow tenfold with it)."""
    mdp = grid_mdp(6)
    phi = [ProbabilityConstraint(LE, F(1, 2), Eventually(FATAL))]
    sizes = []
    for horizon in (40, 400):
        result = discharge_float(mdp, Objective("r", horizon), F(1, 2), phi)
        sizes.append(sum(len(a) for a in result.arrays.values()))
        check(result, mdp, Objective("r", horizon), F(1, 2), phi)
    assert 0 < sizes[1] < 2 * sizes[0] + 2 * mdp.n_states, sizes


def test_unknown_table_encoding(model, refuted):
    def edit(f, a):
        f["witness"]["constraints"][0]["attained"]["mixture"][0]["encoding"] = "zip"
    rejected(model, forge(refuted, edit), "encoding")


def test_unsigned_changes_are_read_as_written(model, refuted):
    """An unsigned array must not wrap around in the order check (steps decrease down the rows)."""
    def edit(f, a):
        for name in a:
            a[name] = a[name].astype(np.uint16)
    result, phi, fields, arrays = forge(refuted, edit)
    check(result, model, OBJECTIVE, EPS, phi, fields, arrays)


@pytest.mark.parametrize("encoding", ["plain", "delta"])
def test_dense_tables_are_accepted_too(model, refuted, encoding):
    """The encoding is a storage choice: the same tables written densely check the same."""
    result, phi, fields, arrays = forge(refuted, lambda f, a: as_plain(model, refuted[1], f, a, encoding))
    check(result, model, OBJECTIVE, EPS, phi, fields, arrays)


@pytest.mark.parametrize("constraint", CATALOGUE, ids=str)
def test_engine_claims_are_the_kernels_bounds(model, constraint):
    """The engine's upper bound and mixture values (fast operators over slot layouts) equal, to
    the bit, those of the kernel's plain operators: what the engine claims, the kernel re-derives."""
    from proofs.kernel.check_alignment_float import OptimalJ, float_space, mixture_values, upper_bound

    result = discharge_float(model, OBJECTIVE, EPS, [constraint])
    mixture = result.witness["constraints"][0]["attained"]
    seen = []
    for bellman in (None, ChoiceLayout(model).bellman):
        cs = float_space(model, OBJECTIVE, constraint)
        opt = OptimalJ(model, OBJECTIVE, cs.stop, {cs.steps}, bellman=bellman)
        seen.append((opt.j_star, upper_bound(model, opt, cs, F(3, 7)),
                     mixture_values(model, opt, cs, Mixture.from_json(mixture), result.arrays, "test")))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("constraint", [
    ProbabilityConstraint(GE, F(0), Eventually(GOAL)),            # worst exactly 0: at the threshold from above
    ProbabilityConstraint(LE, F(1), Eventually(FATAL)),           # worst at most 1, whatever the rounding
    ProbabilityConstraint(GE, F(0), Globally(Not(FATAL))),
])
def test_probability_bounds_at_0_and_1_are_decided(model, constraint):
    """Issue "PRISM users": `P>=0 [ F "success" ]` was undecided with [-1.83e-320, 1.83e-320], and
    `P<=1 [ F "stable" ]` undecided at [1, 1.000000000000127]; a probability's enclosure is
    intersected with [0, 1] before any decision (engine and kernel alike)."""
    r = discharge_float(model, OBJECTIVE, EPS, [constraint])
    check(r, model, OBJECTIVE, EPS, [constraint])
    assert r.status == "proved", r.reason
    worst = r.constraints[0].worst
    assert 0 <= worst.lo and worst.hi <= 1


def test_explain_reads_changes_forward_as_the_kernel_decodes_them(model, refuted):
    """`explain` follows the hack from step 0 and undoes the changes one step at a time; every row,
    in any order of access, is the kernel's decoded row."""
    from proofs.report.explain import _StepRows

    result, phi = refuted
    small = restrict(model, OBJECTIVE.horizon)
    shape = (float_space(small, OBJECTIVE, phi[0]).steps, small.n_states)
    for stored in result.arrays.values():
        dense = decode_step_tables(stored, "changes", shape, "test")
        rows = _StepRows(stored, "changes", shape)
        for t in [0, 1, 5, 2, shape[0] - 1, shape[0] + 3, 0]:
            assert np.array_equal(rows.at(t), dense[min(t, shape[0] - 1)]), t
        assert np.array_equal(_StepRows(dense, "plain", shape).at(3), dense[3])
