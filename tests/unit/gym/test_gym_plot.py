"""`proofs import gym` writes a `plot` table for grid environments, so `explain --plot` can draw them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import proofs
from proofs.report.plot import cell_of_state, read_layout
from proofs.worldmodel.gym import GRID_ARROWS, import_gym, write_model_json

pytest.importorskip("gymnasium")

LAKE_ARROWS = {"0": [-1, 0], "1": [0, 1], "2": [1, 0], "3": [0, -1]}     # left, down, right, up
CLIFF_ARROWS = {"0": [0, -1], "1": [1, 0], "2": [0, 1], "3": [-1, 0]}    # up, right, down, left


@pytest.mark.parametrize(("env_id", "kwargs", "grid"), [
    ("FrozenLake-v1", {"map_name": "8x8"}, [8, 8]),
    ("FrozenLake-v1", {"is_slippery": False}, [4, 4]),
    ("FrozenLake-v1", {"desc": ["SFFH", "FFFG"]}, [2, 4]),   # a map that is not square
])
def test_frozen_lake_gets_its_map_as_grid_and_its_moves_as_arrows(env_id, kwargs, grid):
    doc = import_gym(env_id, kwargs)
    assert doc["plot"] == {"grid": grid, "arrows": LAKE_ARROWS}
    assert len(doc["states"]) == grid[0] * grid[1]


def test_cliff_walking_gets_its_shape_and_its_own_arrows():
    doc = import_gym("CliffWalking-v1", {})
    assert doc["plot"] == {"grid": [4, 12], "arrows": CLIFF_ARROWS}


def test_taxi_gets_no_plot_table_because_its_states_are_not_the_cells_of_its_map():
    doc = import_gym("Taxi-v4", {})
    assert "plot" not in doc and len(doc["states"]) == 500


def test_the_arrows_agree_with_the_in_memory_model_from_gym():
    """`from_gym` and a model loaded from the imported file draw the same arrows on the same grid."""
    lake = proofs.from_gym("FrozenLake-v1", map_name="8x8")
    assert lake.arrows == GRID_ARROWS["FrozenLakeEnv"] and lake.grid == (8, 8)


def test_the_written_file_is_read_back_as_a_layout_and_drawn(tmp_path: Path):
    path = tmp_path / "lake.json"
    write_model_json(import_gym("FrozenLake-v1", {"map_name": "8x8"}), path)
    layout = read_layout(path)
    assert layout is not None
    assert layout.grid == (8, 8) and layout.cells == {}
    assert layout.arrows == {a: tuple(d) for a, d in LAKE_ARROWS.items()}
    model = proofs.load_model(path)
    assert model.grid == (8, 8) and model.arrows == layout.arrows
    assert cell_of_state(model)[[0, 19, 63]].tolist() == [0, 19, 63]
    policy = proofs.Policy.from_callable(model, lambda state: "2")
    picture = tmp_path / "lake.png"
    proofs.report.plot.plot_policy(model, policy, 10, path=picture)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_plot_table_is_not_part_of_the_model(tmp_path: Path):
    doc = import_gym("FrozenLake-v1", {"is_slippery": False})
    write_model_json(doc, tmp_path / "with.json")
    write_model_json({k: v for k, v in doc.items() if k != "plot"}, tmp_path / "without.json")
    assert json.loads((tmp_path / "with.json").read_text())["plot"]["grid"] == [4, 4]
    with_plot, without = (proofs.load_model(tmp_path / name) for name in ("with.json", "without.json"))
    assert with_plot.sha256 == without.sha256
    assert without.grid is None and with_plot.grid == (4, 4)


def test_the_cli_writes_the_plot_table(tmp_path: Path):
    from typer.testing import CliRunner

    from proofs.cli import app

    out = tmp_path / "lake.json"
    result = CliRunner().invoke(app, ["import", "gym", "FrozenLake-v1", "--kw", "map_name=8x8", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["plot"] == {"grid": [8, 8], "arrows": LAKE_ARROWS}
