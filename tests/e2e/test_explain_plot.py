"""`proofs explain ID --plot FILE.png`: the reward hack or the policy drawn over a grid-shaped model,
whose world file says where each state is drawn (its `[plot]` table); clear errors otherwise."""

import shutil
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from proofs.api.model import load_model
from proofs.core.errors import InputError
from proofs.report.plot import cell_of_state, read_layout

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The cliff part of the example project with its committed certificates."""
    root = tmp_path_factory.mktemp("plot")
    for part in ("worldmodels", "policies", "certificates"):
        shutil.copytree(ROOT / part, root / part)
    (root / "obligations").mkdir()
    for name in ("cliff.toml", "cliff-careful.toml"):
        shutil.copy(ROOT / "obligations" / name, root / "obligations" / name)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def picture(path: Path) -> np.ndarray:
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    return image


@pytest.mark.parametrize("lemma", ["cliff.alignment", "careful.walk-policy", "careful.safe"])
def test_a_hack_a_policy_and_a_safety_certificate_are_drawn(proofs, example, lemma):
    out = example / f"{lemma}.png"
    run = proofs("explain", lemma, "--plot", str(out), cwd=example)
    assert run.returncode == 0, run.stderr
    assert f"picture: {out}" in run.stdout
    image = picture(out)
    assert len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 20   # a drawing, not a blank page


def test_the_cells_the_hack_uses_are_where_the_world_file_puts_them():
    """The hack runs from the corridor's middle: its visits put weight on the fatal cell below it,
    which the careful walk never enters."""
    from proofs.api.prove import prove_alignment
    from proofs.core.objective import Objective
    from proofs.report.plot import visit_counts

    model = load_model(ROOT / "worldmodels" / "cliff.toml")
    assert model.grid == (2, 3) and cell_of_state(model).tolist() == [0, 1, 2, 4]   # start, mid, goal, fatal
    hack = prove_alignment(model, Objective("progress", horizon=6), epsilon="1/10",
                           desirable=['P<=0.01 [ F "fatal" ]']).counterexample
    visits = visit_counts(model, hack, 6).reshape(2, 3)
    assert visits[1, 1] > 0.05 and visits[1, 0] == visits[1, 2] == 0


def test_a_proved_alignment_lemma_has_no_hack_to_draw(proofs, example):
    run = proofs("explain", "careful.alignment", "--plot", str(example / "x.png"), cwd=example)
    assert run.returncode == 2 and "no reward hack to draw" in run.stderr and "Traceback" not in run.stderr


def test_a_model_without_a_plot_table_says_how_to_add_one(proofs, example, tmp_path):
    world = example / "worldmodels" / "cliff.toml"
    text = world.read_text()
    try:
        world.write_text(text[:text.index("[plot]")])
        shutil.copytree(example, tmp_path / "p")
    finally:
        world.write_text(text)
    project = tmp_path / "p"
    assert proofs("prove", cwd=project).returncode == 0
    run = proofs("explain", "cliff.alignment", "--plot", str(project / "x.png"), cwd=project)
    assert run.returncode == 2 and "[plot]" in run.stderr and "Traceback" not in run.stderr


def test_a_missing_output_folder_is_an_input_error(proofs, example):
    run = proofs("explain", "cliff.alignment", "--plot", str(example / "nowhere" / "x.png"), cwd=example)
    assert run.returncode == 2 and "does not exist" in run.stderr


@pytest.mark.parametrize(("table", "key"), [
    ("grid = [0, 3]", "plot.grid"), ("grid = 3", "plot.grid"), ("grid = [2, 3]\ncells = 4", "plot.cells"),
    ("grid = [2, 3]\ncells = { a = [2, 0] }", "plot.cells.a"), ("grid = [2, 3]\ncells = { a = [0, true] }", "plot.cells.a"),
    ("grid = [2, 3]\narrows = { go = [1] }", "plot.arrows.go"), ("cells = {}", "plot"), ("grid = [2, 3]\nsize = 1", "plot"),
])
def test_a_bad_plot_table_names_its_key(tmp_path, table, key):
    world = tmp_path / "w.toml"
    world.write_text(f"[plot]\n{table}\n")
    with pytest.raises(InputError) as info:
        read_layout(world)
    assert info.value.where.key == key


def test_a_plot_table_is_read_and_changes_no_model(tmp_path):
    text = (ROOT / "worldmodels" / "cliff.toml").read_text()
    layout = read_layout(ROOT / "worldmodels" / "cliff.toml")
    assert layout is not None and layout.grid == (2, 3) and layout.cells["fatal"] == (1, 1)
    bare = tmp_path / "cliff.toml"
    bare.write_text(text[:text.index("[plot]")])
    assert read_layout(bare) is None
    from proofs.core.model import encode

    assert encode(load_model(bare).mdp) == encode(load_model(ROOT / "worldmodels" / "cliff.toml").mdp)   # the canonical bytes
