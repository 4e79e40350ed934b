"""Pictures of a policy over a grid (`proofs.report.plot`): the visit counts behind the heat map,
the moves drawn, the files written, and clear errors for models without a grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import proofs
from proofs.report.plot import cell_of_state, flow, plot_policy, shown_actions, stopping_states, visit_counts

pytest.importorskip("gymnasium")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]
# The shortest safe way across the 4x4 lake: down, down, right, down, right, right (0 left, 1 down, 2 right).
PATH = {"0": "1", "4": "1", "8": "2", "9": "1", "13": "2", "14": "2"}
ON_PATH = [0, 4, 8, 9, 13, 14, 15]


@pytest.fixture(scope="module")
def lake() -> proofs.Model:
    return proofs.from_gym("FrozenLake-v1", is_slippery=False)


@pytest.fixture(scope="module")
def walker(lake: proofs.Model) -> proofs.Policy:
    return proofs.Policy.from_callable(lake, lambda state: PATH.get(state, "0"))


def _expected_path_counts() -> np.ndarray:
    expected = np.zeros(16)
    expected[ON_PATH] = 1.0
    return expected.reshape(4, 4)


@pytest.mark.parametrize("horizon", [6, 10, None])
def test_a_deterministic_path_visits_each_of_its_cells_once(lake: proofs.Model, walker: proofs.Policy,
                                                            horizon: int | None) -> None:
    # The start counts, and the goal (terminal) counts once however many steps are left.
    np.testing.assert_array_equal(visit_counts(lake, walker, horizon), _expected_path_counts())


def test_a_short_horizon_counts_the_states_at_steps_0_to_h(lake: proofs.Model, walker: proofs.Policy) -> None:
    counts = visit_counts(lake, walker, 3).reshape(-1)
    assert np.flatnonzero(counts).tolist() == [0, 4, 8, 9]
    assert counts.sum() == 4


def test_a_state_where_the_policy_stays_is_counted_at_every_step(lake: proofs.Model) -> None:
    # Left in the top-left corner goes nowhere: the start is occupied at steps 0..H.
    stay = proofs.Policy.from_q_table(lake, np.eye(4)[[0] * 16])
    counts = visit_counts(lake, stay, 7)
    assert counts[0, 0] == 8 and counts.sum() == 8


def test_q_table_policies_and_callables_count_alike(lake: proofs.Model, walker: proofs.Policy) -> None:
    q = np.zeros((16, 4))
    for state, action in PATH.items():
        q[int(state), int(action)] = 1.0
    np.testing.assert_array_equal(visit_counts(lake, proofs.Policy.from_q_table(lake, q), 10),
                                  visit_counts(lake, walker, 10))


def test_slippery_visits_are_probabilities_summed_over_steps() -> None:
    slippery = proofs.from_gym("FrozenLake-v1", is_slippery=True)
    policy = proofs.Policy.from_callable(slippery, lambda state: "2")
    counts = visit_counts(slippery, policy, 12)
    assert counts[0, 0] >= 1.0                       # occupied at step 0 surely
    assert 0 < counts.sum() <= 13 + 1e-9             # at most one cell per step 0..12
    assert np.all(counts >= 0)
    # A geometric horizon counts until (almost) nothing is left in play: every episode ends in a hole or the goal.
    forever = visit_counts(slippery, policy, None)
    terminal = slippery.mdp.labels["terminal"]
    ends = forever.reshape(-1)[np.flatnonzero(terminal)].sum()
    assert ends == pytest.approx(1.0, abs=1e-6)


def test_a_mixture_mixes_its_components_visits(lake: proofs.Model) -> None:
    result = proofs.prove_alignment(lake, proofs.Objective("reward", horizon=10), epsilon="1/10",
                                    desirable=['P<=0 [ F "hole" ]'])
    hack, model = result.counterexample, result.model
    assert hack is not None and hack.is_mixture and model is not None
    mixed = visit_counts(model, hack, 10)
    parts = [float(w) * visit_counts(model, part, 10) for w, part in hack.components]
    np.testing.assert_allclose(mixed, np.sum(parts, axis=0))
    holes = model.mdp.labels["hole"]
    assert mixed.reshape(-1)[holes].sum() > 0        # the hack falls in with positive probability


def test_the_moves_drawn_are_the_policys(lake: proofs.Model, walker: proofs.Policy) -> None:
    shares = shown_actions(lake.mdp, flow(lake.mdp, walker.table(10), 10).taken, cell_of_state(lake), 16)
    assert shares == {int(s): [(a, 1.0)] for s, a in PATH.items()}   # none in holes or the goal (terminal)
    assert stopping_states(lake.mdp).tolist() == [s in (5, 7, 11, 12, 15) for s in range(16)]


def test_plot_writes_a_png_that_is_not_blank(lake: proofs.Model, walker: proofs.Policy, tmp_path: Path) -> None:
    import matplotlib.image
    from matplotlib.figure import Figure
    from matplotlib.quiver import Quiver

    target = tmp_path / "lake.png"
    fig = plot_policy(lake, walker, 10, title="the safe path", path=target)
    assert isinstance(fig, Figure)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["lake.png"]      # no temporary file left behind
    pixels = matplotlib.image.imread(target)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(pixels[..., :3].var()) > 1e-3
    ax = fig.axes[0]
    assert ax.get_title().startswith("the safe path")
    assert len(fig.axes) == 1 and len(ax.child_axes) == 1             # the map, and its colorbar inside
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    assert sum(q.N for q in quivers) == len(PATH)                      # one arrow per cell on the path


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_the_extension_names_the_format(lake: proofs.Model, walker: proofs.Policy, tmp_path: Path,
                                        suffix: str) -> None:
    target = tmp_path / f"lake{suffix}"
    plot_policy(lake, walker, None, path=target)
    head = target.read_bytes()[:100]
    assert (b"<svg" in head or b"<?xml" in head) if suffix == ".svg" else head.startswith(b"%PDF")


def test_an_unknown_extension_is_a_clear_error(lake: proofs.Model, walker: proofs.Policy, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cannot write 'lake\.docx'.*\.png"):
        plot_policy(lake, walker, 10, path=tmp_path / "lake.docx")
    assert list(tmp_path.iterdir()) == []


def test_it_draws_into_a_given_axes(lake: proofs.Model, walker: proofs.Policy) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert plot_policy(lake, walker, 10, ax=ax) is fig


def test_a_model_without_a_grid_is_refused_with_the_fix(tmp_path: Path) -> None:
    text = (ROOT / "worldmodels" / "cliff.toml").read_text()
    (tmp_path / "cliff.toml").write_text(text[:text.index("[plot]")])   # the cliff without its picture table
    cliff = proofs.load_model(tmp_path / "cliff.toml")
    walk = proofs.load_policy(ROOT / "policies" / "cliff-walk.json", cliff)
    assert cliff.grid is None
    with pytest.raises(ValueError, match=r"not grid-shaped: pass grid=\(rows, columns\)"):
        plot_policy(cliff, walk, 6)
    with pytest.raises(ValueError, match="not grid-shaped"):
        visit_counts(cliff, walk, 6)
    with pytest.raises(ValueError, match="outside the 1x3 grid"):
        visit_counts(cliff, walk, 6, grid=(1, 3))


def test_grid_given_by_hand_and_actions_without_arrows_are_written(tmp_path: Path) -> None:
    cliff = proofs.load_model(ROOT / "worldmodels" / "cliff.toml")
    walk = proofs.load_policy(ROOT / "policies" / "cliff-walk.json", cliff)
    fig = plot_policy(cliff, walk, 6, grid=(1, cliff.n_states), path=tmp_path / "cliff.png")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "walk" in texts                     # the model has no arrows: the action is named
    assert (tmp_path / "cliff.png").is_file()
    counts = visit_counts(cliff, walk, 6, grid=(1, cliff.n_states))
    assert counts.shape == (1, cliff.n_states) and counts[0, cliff.index("start")] >= 1


def test_a_refuted_alignment_result_plots_its_reward_hack(lake: proofs.Model, tmp_path: Path) -> None:
    result = proofs.prove_alignment(lake, proofs.Objective("reward", horizon=10), epsilon="1/10",
                                    desirable=['P<=0 [ F "hole" ]'])
    assert result.status is proofs.Status.REFUTED
    fig: Any = result.plot(tmp_path / "hack.png")
    assert (tmp_path / "hack.png").read_bytes()[:4] == b"\x89PNG"
    assert "refuted" in fig.axes[0].get_title() and "mixture" in fig.axes[0].get_title()


def test_a_bad_horizon_or_grid_is_refused(lake: proofs.Model, walker: proofs.Policy) -> None:
    with pytest.raises(ValueError, match="horizon"):
        visit_counts(lake, walker, -1)
    with pytest.raises(ValueError, match="two positive integers"):
        visit_counts(lake, walker, 10, grid=(4, 0))


def test_the_docstring_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import doctest

    import proofs.report.plot

    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testmod(proofs.report.plot, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and tried > 0
