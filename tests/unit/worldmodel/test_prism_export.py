"""The PRISM reader's two routes give the same model: Storm's DRN export read by the vectorised
DRN reader (the program built once, in the state-limit child) and the careful entry-by-entry
reading of the model built in this process."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofs.core.errors import InputError, InputErrors
from proofs.core.model import Mdp, encode
from proofs.worldmodel import prism

from .helpers import MODELS, write

stormpy = pytest.importorskip("stormpy")

WORLDS = MODELS.parent
STORM_EXAMPLES = Path(stormpy.__file__).parent / "examples" / "files"
PUBLISHED = sorted((STORM_EXAMPLES / "mdp").glob("*.nm")) + sorted((STORM_EXAMPLES / "dtmc").glob("*.pm"))

SHAPES = {
    "unlabelled-bools-empty-label": """mdp
const int N = 3;
global g : bool init false;
module m
  x : [0..N] init 0;
  b : bool init true;
  [] x<N -> 1/3:(x'=x+1) + 2/3:(b'=!b);
  [go] x<N -> 0.5:(x'=x+1)&(g'=true) + 0.5:true;
  [go] x>0 -> 1:(x'=0);
endmodule
label "none" = false;
label "top" = x=N;
rewards
  [go] true : 2;
  x=1 : 1/7;
endrewards
rewards "t"
  true : 1;
endrewards
""",
    "dtmc": """dtmc
module m
  x : [-2..2] init -2;
  [a] x<2 -> 1/3:(x'=x+1) + 2/3:true;
  [] x=2 -> true;
endmodule
""",
    "action-rewards": """mdp
module m
  x : [0..2] init 0;
  [go] x<2 -> 0.25:(x'=x+1) + 0.75:true;
  [stay] true -> true;
endmodule
rewards "r"
  [go] x=0 : 1;
endrewards
""",
    "interval": """mdp
module m
  x : [0..2] init 0;
  [go] x<2 -> [1/4, 1/2]:(x'=x+1) + [1/2, 3/4]:true;
  [stay] true -> true;
endmodule
""",
    "no-variables": """mdp
module m
  [a] true -> 1/2:true + 1/2:true;
endmodule
""",
}


def both_routes(path: Path, monkeypatch: pytest.MonkeyPatch,
                constants: dict[str, str] | None = None) -> tuple[Mdp | str, Mdp | str, bool]:
    """(the model by the export route, by the careful route, whether the export route was taken)."""
    taken = []
    read_export = prism._read_export

    def spy(*args: object) -> Mdp | None:
        found = read_export(*args)  # type: ignore[arg-type]
        taken.append(found is not None)
        return found

    def read(route: object) -> Mdp | str:
        with monkeypatch.context() as m:
            m.setattr(prism, "_read_export", route)
            try:
                return prism.read_prism(path, constants)
            except (InputError, InputErrors) as exc:
                return str(exc)

    fast = read(spy)
    careful = read(lambda *args: None)
    return fast, careful, any(taken)


def assert_same(fast: Mdp | str, careful: Mdp | str) -> None:
    if isinstance(fast, str) or isinstance(careful, str):
        assert fast == careful
        return
    assert encode(fast) == encode(careful)
    assert (fast.source, fast.states, dict(fast.constants)) == (careful.source, careful.states, dict(careful.constants))


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_program_shapes(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, careful, taken = both_routes(write(tmp_path / f"{name}.nm", SHAPES[name]), monkeypatch)
    assert_same(fast, careful)
    assert taken  # Storm builds no PRISM transition rewards, so every shape has a DRN form


@pytest.mark.parametrize("path", [WORLDS / "models" / "small.nm", WORLDS / "prism" / "jump.nm",
                                  MODELS.parents[2] / "worldmodels" / "warehouse.nm"], ids=lambda p: p.name)
def test_project_programs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    constants = {"N": "5", "p": "3/10"} if path.name == "jump.nm" else None
    fast, careful, taken = both_routes(path, monkeypatch, constants)
    assert_same(fast, careful)
    assert taken


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: p.name)
def test_published_programs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PRISM benchmark-suite programs that stormpy ships (undefined constants: both refuse alike)."""
    fast, careful, _ = both_routes(path, monkeypatch)
    assert_same(fast, careful)


def test_repeated_labels_are_numbered_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "mdp\nmodule m\n  x : [0..1] init 0;\n  [tick] x=0 -> (x'=1);\n  [tick] x=0 -> 1/2:(x'=1) + 1/2:true;\n" \
           "  [] x=0 -> true;\n  [tick] x=1 -> true;\nendmodule\n"
    fast, careful, taken = both_routes(write(tmp_path / "ticks.nm", text), monkeypatch)
    assert_same(fast, careful)
    assert taken and isinstance(fast, Mdp) and fast.local_actions(0) == ["tick", "tick#2", "2"]


def test_a_program_that_floats_explore_differently_takes_the_careful_route(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The export route builds the exact model without the variables' values and takes them from a
    float build, which must explore the same states in the same order. Here x*0.1+0.2-0.3 is 0
    exactly but not in floats: the float build reaches x=2 and the exact one does not, so the
    values cannot be borrowed and the careful route reads the model."""
    text = "mdp\nmodule m\n  x : [0..3] init 1;\n" \
           "  [a] x=1 -> (x*0.1+0.2-0.3):(x'=2) + (1-(x*0.1+0.2-0.3)):(x'=3);\n  [b] x!=1 -> true;\nendmodule\n"
    fast, careful, taken = both_routes(write(tmp_path / "zero.nm", text), monkeypatch)
    assert_same(fast, careful)
    assert not taken and isinstance(fast, Mdp) and fast.states == ("x=1", "x=3")


GRID = """mdp
const int N = 60;
module robot
  x : [0..N-1] init 0;
  y : [0..N-1] init 0;
  [east]  x<N-1 -> 9/10:(x'=x+1) + 1/10:(y'=max(y-1,0));
  [north] y<N-1 -> 9/10:(y'=y+1) + 1/10:(x'=max(x-1,0));
endmodule
label "goal" = x=N-1 & y=N-1;
"""


@pytest.mark.parametrize("reader", ["gives up at once", "raises"])
def test_a_stream_reader_that_stops_early_leaves_the_child_to_finish(reader: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The DRN text (3,600 states: far more than a pipe holds) is read while the child writes it;
    a reader that stops early must drain the pipe, or the child would wait to write until its
    deadline and the program be reported as too large. The careful route then reads the model."""
    path = tmp_path / "grid.nm"
    path.write_text(GRID)
    calls = []

    def stop(stream: object, sizes: tuple[int, int, int], where: Path) -> None:
        calls.append(sizes)
        if reader == "raises":
            raise RuntimeError("a reader bug")
        return None

    monkeypatch.setattr(prism, "read_drn_stream", stop)
    stopped = prism.read_prism(path)
    monkeypatch.undo()
    assert len(calls) == 1 and calls[0][0] == 3600
    fast, careful, taken = both_routes(path, monkeypatch)
    assert taken
    assert_same(stopped, careful)
    assert_same(fast, careful)
