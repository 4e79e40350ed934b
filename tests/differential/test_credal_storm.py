"""Differential tests: our exact robust values on credal (interval) MDPs agree with Storm's ROBUST mode.

SPEC's credal semantics: nature picks every step's distribution within the intervals and works
against the optimisation direction (``Pmax=?``: the policy maximises and nature minimises;
``Pmin=?`` and ``R{"c"}min=?``: nature maximises). That is Storm's
``UncertaintyResolutionMode.ROBUST``.

Each model is written once as DRN (`storm.to_drn`); that one file is read by ``proofs eval``'s
evaluation (`evaluate_model`, our DRN reader and exact backward induction) and by Storm
(``build_model_from_drn``), so both tools see the same numbers. Storm's interval models come in
two kinds: ``RationalInterval`` (exact arithmetic: its value must *equal* ours) and ``Interval``
(floats: within ``FLOAT_RELATIVE`` of ours). Storm reports a value per state; μ₀ of a DRN model
is uniform over the ``init`` states, so Storm's value at μ₀ is their mean.

Compared, on the episode s0 … s_k: ``P{max,min}=? [ F<=k "goal" ]``,
``P{max,min}=? [ !"fatal" U<=k "goal" ]``, ``P{max,min}=? [ G<=k !"fatal" ]`` (Storm cannot negate a
path formula, so it is asked ``1 - P{min,max}=? [ F<=k "fatal" ]``: the complement flips both the
policy's and nature's direction) and ``R{"r"}{max,min}=? [ C<=k ]`` (state-action rewards, ``r``
possibly negative).

The policy lemma in float arithmetic on a generated interval model (the kernel's float passes with
nature's greedy) is compared with Storm's ROBUST ``Rmax=? [C<=k]`` of the model and of the chain
the policy induces.

Unbounded reachability (``--horizon unbounded``) is compared where Storm answers it: on
graph-preserving intervals (every listed successor's lower bound positive; Storm refuses the rest,
"requires graph-preservation", and so do we). Our values there are sound float enclosures
(`proofs.semantics.unbounded_credal`); on tiny models they must contain the exact value found by
brute force over both players' memoryless strategies, and Storm's value within its precision.
"""

import itertools
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import stormpy  # required by the dev extra: an ImportError here is a real failure
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.support.mdps import (
    credal_mdps,
    graph_preserving_credal_mdps,
    make_mdp,
    random_mdp,
    risky_mdp,
    solve_exact,
    widened,
)

from proofs.core.model import Mdp
from proofs.core.numbers import Rationals
from proofs.interop import storm
from proofs.report.evaluation import evaluate_model
from proofs.worldmodel.load import load_mdp

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FLOAT_RELATIVE = 1e-6  # Storm's float engine: its default (relative) precision
ROOT = Path(__file__).resolve().parents[2]


# -- models ------------------------------------------------------------------------------------------
def _uniform_initial(mdp: Mdp) -> Mdp:
    """μ₀ uniform over its support: what a DRN file can say (its ``init`` label)."""
    k = len(mdp.initial_states)
    return replace(mdp, initial_probability=Rationals.from_fractions([Fraction(1, k)] * k))


@st.composite
def credal_models(draw: st.DrawFn) -> Mdp:
    """`credal_mdps` with ``goal`` and ``fatal`` marking at least one state each (DRN lists labels by
    state, so an empty label would not exist in the file), μ₀ made uniform over its support."""
    return _uniform_initial(draw(credal_mdps(labelled=True)))


def hand_model() -> Mdp:
    """Three states, computed by hand in `test_hand_model_values`.

    s0: ``a`` (c = 1) to s0 [1/10, 1/2], s1 [1/3, 3/5], s2 [1/5, 1/2]; ``b`` (c = 2) to s1 or s2,
    each [0, 1]. s1 is the absorbing goal; s2: ``s`` (c = 1/2) to s0 [1/2, 1], s2 [0, 1/2].
    """
    return make_mdp(
        ["s0", "s1", "s2"],
        {"s0": [("a", {"s0": ("1/10", "1/2"), "s1": ("1/3", "3/5"), "s2": ("1/5", "1/2")}),
                ("b", {"s1": (0, 1), "s2": (0, 1)})],
         "s1": [("stay", {"s1": 1})],
         "s2": [("s", {"s0": ("1/2", 1), "s2": (0, "1/2")})]},
        rewards={"c": {("s0", "a"): 1, ("s0", "b"): 2, ("s2", "s"): "1/2"}},
        labels={"goal": ["s1"], "fatal": ["s2"]},
    )


# -- the two sides ------------------------------------------------------------------------------------
def queries(k: int, rewards: tuple[str, ...]) -> list[tuple[str, str, bool]]:
    """(our property, Storm's query, Storm's value is the complement) for every comparison."""
    out = []
    for op, other in (("max", "min"), ("min", "max")):
        out += [
            (f'P{op}=? [ F<={k} "goal" ]', f'P{op}=? [F<={k} "goal"]', False),
            (f'P{op}=? [ !"fatal" U<={k} "goal" ]', f'P{op}=? [!"fatal" U<={k} "goal"]', False),
            (f'P{op}=? [ G<={k} !"fatal" ]', f'P{other}=? [F<={k} "fatal"]', True),
        ]
        out += [(f'R{{"{r}"}}{op}=? [ C<={k} ]', f'R{{"{r}"}}{op}=? [C<={k}]', False) for r in rewards]
    return out


def ours(path: Path, properties: list[str]) -> list[Fraction]:
    """``proofs eval``'s values at μ₀ (exact: the enclosure is a point)."""
    rows = evaluate_model(path, None, None, properties)["queries"]
    assert [row["property"] for row in rows] == properties
    values = []
    for row in rows:
        lo, hi = Fraction(row["value"]["lo"]), Fraction(row["value"]["hi"])
        assert lo == hi, row
        values.append(lo)
    return values


def storm_model(path: Path, *, exact: bool) -> object:
    return stormpy.build_model_from_drn[stormpy.RationalInterval if exact else stormpy.Interval](str(path))


def storm_at_initial(model: object, query: str, complement: bool, *, exact: bool) -> Fraction | float:
    """Storm's ROBUST value at μ₀ (uniform over Storm's initial states)."""
    values = storm.check(model, query, exact=exact, nature="robust")
    initial = list(model.initial_states)  # type: ignore[attr-defined]
    if exact:
        value: Fraction | float = sum((values[s] for s in initial), Fraction(0)) / len(initial)
    else:
        value = sum(float(values[s]) for s in initial) / len(initial)
    return 1 - value if complement else value


def close(a: float, b: Fraction) -> bool:
    return abs(a - float(b)) <= FLOAT_RELATIVE * max(1.0, abs(float(b)))


def compare(mdp: Mdp, k: int, *, floats: bool = False) -> None:
    """Write ``mdp`` as DRN, evaluate every query both ways, and require agreement."""
    names = storm.storm_names(mdp)
    assert all(names.labels[x] == x for x in ("goal", "fatal")) and all(names.rewards[r] == r for r in mdp.rewards)
    # Storm's DRN parser drops a reward model whose rewards are all 0 ("Missing reward model")
    zero = [r for r, values in mdp.rewards.items() if not values.num.any()]
    if zero:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.drn"
            path.write_text(storm.to_drn(mdp), encoding="utf-8")
            assert ours(path, [f'R{{"{r}"}}{op}=? [ C<={k} ]' for r in zero for op in ("max", "min")]) == \
                [0] * (2 * len(zero))
    asked = queries(k, tuple(r for r in mdp.rewards if r not in zero))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.drn"
        path.write_text(storm.to_drn(mdp), encoding="utf-8")
        values = ours(path, [p for p, _, _ in asked])
        exact_model = storm_model(path, exact=True)
        float_model = storm_model(path, exact=False) if floats else None
    built = storm.to_storm(mdp, exact=True)  # the in-memory builder must agree with the file
    for (prop, query, complement), value in zip(asked, values):
        theirs = storm_at_initial(exact_model, query, complement, exact=True)
        assert value == theirs, f"{prop}: ours {value}, Storm (exact, ROBUST) {theirs}"
        from_builder = storm.initial_value(mdp, storm.check(built, query, exact=True))
        assert (1 - from_builder if complement else from_builder) == theirs, prop
        if float_model is not None:
            approx = storm_at_initial(float_model, query, complement, exact=False)
            assert close(float(approx), value), f"{prop}: ours {float(value)}, Storm (float, ROBUST) {approx}"


# -- tests -------------------------------------------------------------------------------------------
@given(credal_models(), st.integers(1, 5))
@SETTINGS
def test_generated_interval_mdps_exact(mdp, k):
    """Every query equals Storm's exact ROBUST value (Storm's RationalInterval engine)."""
    compare(mdp, k)


@given(credal_models(), st.integers(1, 4))
@settings(SETTINGS, max_examples=30)
def test_generated_interval_mdps_float(mdp, k):
    """Storm's float interval engine agrees within its precision."""
    compare(mdp, k, floats=True)


def test_hand_model_values():
    """Values computed by hand on `hand_model` (nature's greedy choice within the intervals).

    Pmax F<=1: under ``a`` nature gives the goal its lower bound 1/3; under ``b`` it sends
    everything to s2: 1/3. Pmax F<=2: V1 = (1/3, 1, 0); under ``a`` nature fills s2 to 1/2, then
    s0 to 1/6, the goal keeps 1/3: 1/3 + 1/6·1/3 = 7/18. Pmax F<=3 = 13/27 (the same order again).
    Rmax C<=2: ``b`` earns 2 and nature ends it in the goal; ``a`` earns 1 + 3/10·1/2 + 1/10·2 =
    27/20 at most: 2. Rmin C<=2: ``a`` = 1 + 7/15·1 + 1/5·1/2 = 47/30 (nature fills s0, worth 1,
    to 7/15); ``b`` = 2 + 1/2: 47/30.
    """
    mdp = hand_model()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hand.drn"
        path.write_text(storm.to_drn(mdp), encoding="utf-8")
        got = ours(path, ['Pmax=? [ F<=1 "goal" ]', 'Pmax=? [ F<=2 "goal" ]', 'Pmax=? [ F<=3 "goal" ]',
                          'R{"c"}max=? [ C<=2 ]', 'R{"c"}min=? [ C<=2 ]'])
    assert got == [Fraction(1, 3), Fraction(7, 18), Fraction(13, 27), Fraction(2), Fraction(47, 30)]
    for k in (1, 2, 3, 6):
        compare(mdp, k, floats=True)


def test_toml_model_through_the_cli(tmp_path):
    """The interval TOML of the tests (μ₀ = 1/2 each on s0, s1) through ``proofs eval --json``.

    s0 goes to s1 with probability in [0.85, 0.95], s1 is absorbing; F<=k !"init" from s0 is
    1 - (1 - q)^k for nature's q: Pmax (nature q = 0.85) at k = 2 is (1 + 1 - 0.15²)/2 = 0.98875;
    Pmin (q = 0.95) is (1 + 1 - 0.05²)/2 = 0.99875.
    """
    source = ROOT / "tests" / "worlds" / "models" / "credal.toml"
    mdp = load_mdp(source)
    init = storm.storm_names(mdp).labels["init"]   # the label init is not μ₀'s support: renamed
    path = tmp_path / "credal.drn"
    path.write_text(storm.to_drn(mdp), encoding="utf-8")
    properties = ['Pmax=? [ F<=2 !"init" ]', 'Pmin=? [ F<=2 !"init" ]']
    run = subprocess.run([sys.executable, "-m", "proofs", "eval", str(source), "--json",
                          *(a for p in properties for a in ("--property", p))],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    rows = json.loads(run.stdout)["queries"]
    got = [Fraction(row["value"]["lo"]) for row in rows]
    assert got == [Fraction("0.98875"), Fraction("0.99875")]
    assert [Fraction(row["value"]["hi"]) for row in rows] == got
    model = storm_model(path, exact=True)
    for op, value in zip(("max", "min"), got):
        assert storm_at_initial(model, f'P{op}=? [F<=2 !"{init}"]', False, exact=True) == value


def test_constraint_without_policy_in_its_own_worst_case():
    """A constraint of Φ without ``--policy``: its worst case over all policies *and* nature (SPEC:
    the highest value for ``<=``, the lowest for ``>=``), i.e. Storm's COOPERATIVE mode.

    On `hand_model`, P<=1/2 [ F<=2 "goal" ]: action ``b`` with nature sending all to the goal makes
    it 1 (VIOLATED). ``proofs eval`` once reported 7/18 (Pmax with nature minimising) and "holds",
    below the value of one policy (``--policy``, b at step 0: 1).
    """
    mdp = hand_model()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hand.drn"
        path.write_text(storm.to_drn(mdp), encoding="utf-8")
        rows = evaluate_model(path, None, None, ['P<=1/2 [ F<=2 "goal" ]', 'P>=1/2 [ F<=2 "goal" ]'])["constraints"]
        model = storm_model(path, exact=True)
    worst = [storm.initial_value(mdp, storm.check(model, f'P{op}=? [F<=2 "goal"]', exact=True, nature="cooperative"))
             for op in ("max", "min")]
    assert worst == [Fraction(1), Fraction(0)]  # by hand: b and nature to the goal; b and nature to s2
    assert [Fraction(row["value"]["lo"]) for row in rows] == worst
    assert [row["holds"] for row in rows] == [False, False]


LARGE_STATES, LARGE_STEPS = 2000, 20


def test_generated_large_interval_model():
    """A generated random interval model (`random_mdp`, every p widened to [0.9p, 1.1p]) at k = 20.

    Beyond the exact limit (transitions × steps) ours is a sound float enclosure: it must contain
    Storm's exact value and lie within Storm's float precision of its float value. (Measured for
    one query at k = 20 and 1e5 states: 15.5 s for `proofs eval` from the DRN file on the float
    path, 453 s in memory on the exact path; Storm float 10 s build + 1.3 s check.)
    """
    mdp = widened(random_mdp(LARGE_STATES, 0))
    asked = [(f'Pmax=? [ F<={LARGE_STEPS} "goal" ]', f'Pmax=? [F<={LARGE_STEPS} "goal"]'),
             (f'R{{"r"}}min=? [ C<={LARGE_STEPS} ]', f'R{{"r"}}min=? [C<={LARGE_STEPS}]')]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.drn"
        path.write_text(storm.to_drn(mdp), encoding="utf-8")
        rows = evaluate_model(path, None, None, [p for p, _ in asked])["queries"]
        exact_model, float_model = storm_model(path, exact=True), storm_model(path, exact=False)
    for (prop, query), row in zip(asked, rows):
        # beyond EXACT_LIMIT (transitions × steps): the sound float path, an enclosure
        lo, hi = Fraction(row["value"]["lo"]), Fraction(row["value"]["hi"])
        assert 0 < lo <= hi, prop
        assert lo <= storm_at_initial(exact_model, query, False, exact=True) <= hi, prop
        approx = storm_at_initial(float_model, query, False, exact=False)
        assert close(float(approx), lo), f"{prop}: ours [{float(lo)}, {float(hi)}], Storm (float) {approx}"


def test_the_robust_policy_lemma_in_floats_meets_storms_robust_values():
    """The policy lemma on the generated interval model in float arithmetic (the kernel's passes
    with nature's greedy in integers, `proofs.kernel.bellman.Nature`), checked by the kernel: its
    enclosures of J* and J(π₀) contain Storm's exact ROBUST ``Rmax=? [C<=k]`` of the model and of
    the chain the policy induces (`storm.fix_policy`), and meet Storm's float values."""
    from proofs.core.objective import Objective
    from proofs.core.policy import Policy, PolicyLayer
    from proofs.engines.policy import discharge_policy
    from proofs.kernel.check_policy import check_policy_certificate

    mdp = widened(random_mdp(LARGE_STATES, 0))
    layer = PolicyLayer.from_table(mdp, {s: [(int(mdp.choice_start[s + 1]) - 1, Fraction(1))]
                                         for s in range(mdp.n_states)})   # every state's last action
    objective, policy, epsilon = Objective("r", LARGE_STEPS, Fraction(1)), Policy.stationary(layer), Fraction(1)
    result = discharge_policy(mdp, objective, policy, epsilon, exact_mode=False)
    assert result.witness["arithmetic"] == "float" and result.status != "unknown"
    checked = check_policy_certificate(result.certificate_fields(objective, epsilon), result.status, mdp, objective,
                                       policy, epsilon)
    query = f"Rmax=? [C<={LARGE_STEPS}]"
    with tempfile.TemporaryDirectory() as tmp:
        for model, enclosure in ((mdp, checked.j_star), (storm.fix_policy(mdp, layer), checked.j_policy)):
            path = Path(tmp) / "model.drn"
            path.write_text(storm.to_drn(model), encoding="utf-8")
            assert enclosure.width < Fraction(1, 10**9)
            assert enclosure.lo <= storm_at_initial(storm_model(path, exact=True), query, False, exact=True) <= enclosure.hi
            assert close(float(storm_at_initial(storm_model(path, exact=False), query, False, exact=False)), enclosure.lo)


def test_the_robust_optimum_at_1e5_states_meets_storms():
    """J*_robust of the policy lemma (H = 20) on the 1e5-state generated interval model, in float
    arithmetic and checked by the kernel, against Storm's float ROBUST ``Rmax=? [C<=20]`` of the same
    DRN file: Storm's value lies within its precision of our enclosure, which is far narrower."""
    from proofs.core.objective import Objective
    from proofs.core.policy import Policy, PolicyLayer
    from proofs.engines.policy import discharge_policy
    from proofs.kernel.check_policy import check_policy_certificate

    mdp = widened(random_mdp(100_000, 0))
    layer = PolicyLayer.deterministic(mdp, mdp.choice_start[:-1].copy())   # every state's first action
    objective, policy, epsilon = Objective("r", LARGE_STEPS, Fraction(1)), Policy.stationary(layer), Fraction(10)
    result = discharge_policy(mdp, objective, policy, epsilon)
    assert result.witness["arithmetic"] == "float"
    checked = check_policy_certificate(result.certificate_fields(objective, epsilon), result.status, mdp, objective,
                                       policy, epsilon)
    assert checked.j_star.width < Fraction(1, 10**9)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.drn"
        path.write_text(storm.to_drn(mdp), encoding="utf-8")
        theirs = storm_at_initial(storm_model(path, exact=False), f"Rmax=? [C<={LARGE_STEPS}]", False, exact=False)
    assert close(float(theirs), checked.j_star.lo), (float(theirs), float(checked.j_star.lo))


# -- unbounded reachability (graph-preserving intervals, as Storm requires) ------------------------------
UNBOUNDED = [('Pmax=? [ F "goal" ]', 'Pmax=? [F "goal"]', False), ('Pmin=? [ F "goal" ]', 'Pmin=? [F "goal"]', False),
             ('Pmax=? [ !"fatal" U "goal" ]', 'Pmax=? [!"fatal" U "goal"]', False),
             ('Pmin=? [ G !"fatal" ]', 'Pmax=? [F "fatal"]', True)]


def _vertices(lo: list[Fraction], hi: list[Fraction]) -> set[tuple[Fraction, ...]]:
    """Every vertex of {p : lo ≤ p ≤ hi, Σ p = 1}: the lower bounds, then the free mass to the
    successors in some order, each up to its upper bound."""
    out = set()
    for order in itertools.permutations(range(len(lo))):
        p, free = list(lo), 1 - sum(lo)
        for i in order:
            p[i] += min(free, hi[i] - lo[i])
            free -= p[i] - lo[i]
        out.add(tuple(p))
    return out


def _reach(n: int, rows: dict[int, dict[int, Fraction]], keep: list[bool], stop: list[bool]) -> list[Fraction]:
    """P(keep U stop) of a Markov chain, exactly: 0 where stop cannot be reached, else the linear system."""
    can = [stop[s] for s in range(n)]
    changed = True
    while changed:
        changed = False
        for s in range(n):
            if not can[s] and keep[s] and any(can[t] for t in rows[s]):
                can[s] = changed = True
    unknown = [s for s in range(n) if can[s] and not stop[s]]
    index = {s: i for i, s in enumerate(unknown)}
    a = [[Fraction(int(i == j)) for j in range(len(unknown))] for i in range(len(unknown))]
    b = [Fraction(0)] * len(unknown)
    for s in unknown:
        for t, p in rows[s].items():
            if t in index:
                a[index[s]][index[t]] -= p
            elif stop[t]:
                b[index[s]] += p
    x = solve_exact(a, b)   # regular: the chain leaves `unknown` almost surely
    return [Fraction(1) if stop[s] else x[index[s]] if s in index else Fraction(0) for s in range(n)]


def brute_force_reach(mdp: Mdp, keep: list[bool], stop: list[bool], maximise: bool) -> Fraction:
    """max (min) over the policy's memoryless deterministic strategies of min (max) over nature's
    memoryless vertex choices of P(keep U stop) at μ₀: both suffice in finite turn-based stochastic
    games with a reachability objective (Condon 1992)."""
    assert mdp.interval is not None
    lo, hi = (b.fractions() for b in mdp.interval)
    n = mdp.n_states

    def row(c: int) -> list[tuple[int, Fraction, Fraction]]:
        return [(int(mdp.target[t]), lo[t], hi[t]) for t in range(int(mdp.row_start[c]), int(mdp.row_start[c + 1]))]

    outer, inner = (max, min) if maximise else (min, max)
    values = []
    for choice in itertools.product(*(range(int(mdp.choice_start[s]), int(mdp.choice_start[s + 1])) for s in range(n))):
        options = [[dict(zip([t for t, _, _ in row(c)], v)) for v in _vertices([a for _, a, _ in row(c)],
                                                                           [b for _, _, b in row(c)])]
                   for c in choice]
        values.append(inner(sum((p * _reach(n, dict(enumerate(rows)), keep, stop)[s]
                                 for s, p in mdp.initial_distribution()), Fraction(0))
                            for rows in itertools.product(*options)))
    return outer(values)


def unbounded_both_ways(mdp: Mdp) -> tuple[list[dict[str, Any]], object]:
    """The model written once as DRN: our rows of the `UNBOUNDED` queries (`proofs eval`'s evaluation
    of the file) and Storm's float interval model of the same file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.drn"
        path.write_text(storm.to_drn(mdp), encoding="utf-8")
        rows = evaluate_model(path, None, None, [p for p, _, _ in UNBOUNDED], horizon="unbounded")["queries"]
        return rows, storm_model(path, exact=False)


@given(mdp=graph_preserving_credal_mdps(max_states=3))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_unbounded_reachability_meets_brute_force_and_storm(mdp):
    """Unbounded robust reachability on tiny graph-preserving interval models: our sound enclosure
    (`proofs.semantics.unbounded_credal`, from the DRN file through `proofs eval`'s evaluation)
    contains the exact value found by brute force over both players' memoryless strategies, and
    meets Storm's ROBUST value of the same file within Storm's precision."""
    mdp = _uniform_initial(mdp)
    goal, fatal = (mdp.labels[x].tolist() for x in ("goal", "fatal"))
    exact = {'Pmax=? [ F "goal" ]': brute_force_reach(mdp, [True] * mdp.n_states, goal, True),
             'Pmin=? [ F "goal" ]': brute_force_reach(mdp, [True] * mdp.n_states, goal, False),
             'Pmax=? [ !"fatal" U "goal" ]': brute_force_reach(mdp, [not f for f in fatal], goal, True),
             'Pmin=? [ G !"fatal" ]': 1 - brute_force_reach(mdp, [True] * mdp.n_states, fatal, True)}
    assume(any(0 < v < 1 for v in exact.values()))   # not decided by the graph alone
    rows, model = unbounded_both_ways(mdp)
    for (prop, query, complement), row in zip(UNBOUNDED, rows):
        lo, hi = Fraction(row["value"]["lo"]), Fraction(row["value"]["hi"])
        assert lo <= exact[prop] <= hi and hi - lo <= Fraction(1, 10**6), (prop, lo, hi, exact[prop])
        theirs = storm_at_initial(model, query, complement, exact=False)
        assert close(float(theirs), exact[prop]), (prop, float(theirs), float(exact[prop]))


def test_unbounded_reachability_refuses_intervals_that_reach_zero(tmp_path):
    """``proofs eval --horizon unbounded`` on an interval [0, u]: exit 2, the transition named, no
    traceback (Storm refuses it too: "requires graph-preservation"); a step bound still works."""
    model = tmp_path / "zero.toml"
    model.write_text('initial = "s"\n[states.s.actions.go]\nto = { s = ["0", "0.5"], t = ["0.5", "1"] }\n'
                     '[states.t]\nlabels = ["goal"]\n[states.t.actions.stay]\nto = { t = "1" }\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "proofs", "eval", str(model), "--horizon", "unbounded",
                          "--property", 'Pmax=? [ F "goal" ]'], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "need graph-preserving intervals; the transition of state 's', action 'go' to 's' has lower bound 0" \
        in run.stderr
    bounded = subprocess.run([sys.executable, "-m", "proofs", "eval", str(model), "--json", "--property",
                              'Pmax=? [ F<=3 "goal" ]'], capture_output=True, text=True, cwd=ROOT, check=True)
    assert Fraction(json.loads(bounded.stdout)["queries"][0]["value"]["lo"]) == Fraction(7, 8)


def test_unbounded_reachability_at_1e5_states_meets_storms():
    """The same four queries on a generated 1e5-state graph-preserving interval model whose values
    are not decided by the graph (`risky_mdp`: every action may end the episode in ``goal`` or
    ``fatal``): Storm's ROBUST value, asked to a relative precision of 1e-10 (its default 1e-6
    stops value iteration about 1e-5 short here), lies inside our sound enclosure."""
    rows, model = unbounded_both_ways(widened(risky_mdp(100_000, 0)))
    for (prop, query, complement), row in zip(UNBOUNDED, rows):
        lo, hi = Fraction(row["value"]["lo"]), Fraction(row["value"]["hi"])
        assert 0 < lo <= hi < 1 and hi - lo <= Fraction(1, 10**6), (prop, float(lo), float(hi))
        values = storm.check(model, query, exact=False, nature="robust", precision="1/10000000000")
        theirs = 1 - float(values[0]) if complement else float(values[0])
        assert float(lo) - 1e-9 <= theirs <= float(hi) + 1e-9, (prop, float(lo), float(hi), theirs)
