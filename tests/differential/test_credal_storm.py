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

Not compared: unbounded properties (``--horizon unbounded``). Our unbounded engine refuses credal
models ("not supported yet"), and Storm's interval engine refuses unbounded until on intervals
[0, x] ("requires graph-preservation").
"""

import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import stormpy  # required by the dev extra: an ImportError here is a real failure
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.mdps import credal_mdps, make_mdp, random_mdp, widened

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
