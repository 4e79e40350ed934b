"""`proofs graph`: verdicts from the certificates, a layered layout without overlaps, labels inside
their boxes, and the format named by the output's extension (never DOT text in a .png)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import networkx as nx
import pytest

from proofs.report.graph import STATUSES, LemmaNode, figure, label_lines, layout, to_dot

ROOT = Path(__file__).resolve().parents[2]

OBLIGATION = """
[worldmodel]
path = "../worldmodels/cliff.toml"

[objective]
reward = "progress"
horizon = 6

[[lemma]]
id = "cliff.alignment"
kind = "alignment"
epsilon = "0.1"
desirable = ['P<=0.01 [ F "fatal" ]']
expect = "refuted"

[[lemma]]
id = "cliff.walk"
kind = "policy"
policy = "../policies/cliff-walk.json"
epsilon = "0.1"

[[lemma]]
id = "cliff.walk-safe"
kind = "certificate"
from = ["cliff.alignment", "cliff.walk"]
expect = "unknown"                 # its alignment premise is refuted
"""

MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-", ".svg": b"<?xml", ".dot": b"digraph proofs {",
         ".gv": b"digraph proofs {"}


def make_project(tmp: Path) -> Path:
    for folder, name in (("worldmodels", "cliff.toml"), ("policies", "cliff-walk.json")):
        (tmp / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / folder / name, tmp / folder / name)
    (tmp / "obligations").mkdir()
    (tmp / "obligations" / "cliff.toml").write_text(OBLIGATION)
    (tmp / "pyproject.toml").write_text("[tool.proofs]\n")
    return tmp


def a_big_tree() -> tuple[nx.DiGraph, dict[str, LemmaNode]]:
    """Many certificates, premises shared between them, long and short ids, every status."""
    g = nx.DiGraph()
    nodes: dict[str, LemmaNode] = {}
    for i in range(7):
        a, p, c = f"a{i}" + "x" * (i * 5), f"policy-{i}", f"safe.{i}"
        for name, kind in ((a, "alignment"), (p, "policy"), (c, "certificate")):
            nodes[name] = LemmaNode(name, kind, STATUSES[(i + len(name)) % len(STATUSES)], "refuted" if i % 3 else "proved")
            g.add_node(name, kind=kind)
        g.add_edge(a, c)
        g.add_edge(p, c)
        if i:
            shared = f"safe.{i}.again"
            nodes[shared] = LemmaNode(shared, "certificate", "unknown")
            g.add_edge(a, shared)
            g.add_edge("policy-0", shared)
    nodes["lonely.one"] = LemmaNode("lonely.one", "policy", "proved")
    g.add_node("lonely.one", kind="policy")
    return g, nodes


def test_layout_boxes_do_not_overlap_and_premises_sit_below() -> None:
    g, nodes = a_big_tree()
    boxes = layout(g, nodes)
    assert set(boxes) == set(g.nodes)
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not boxes[a].overlaps(boxes[b]), (a, b, boxes[a], boxes[b])
    for premise, conclusion in g.edges():
        assert boxes[premise].top < boxes[conclusion].bottom
    assert min(b.left for b in boxes.values()) == pytest.approx(0)


def test_layout_centres_a_certificate_over_its_premises() -> None:
    g = nx.DiGraph([("left.alignment", "safe"), ("right.policy", "safe")])
    boxes = layout(g)
    assert boxes["safe"].x == pytest.approx((boxes["left.alignment"].x + boxes["right.policy"].x) / 2)


def test_every_label_is_drawn_inside_its_box() -> None:
    g, nodes = a_big_tree()
    fig = figure(g, nodes)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    patches = {p.get_gid(): p.get_window_extent(renderer) for p in ax.patches if p.get_gid()}
    labels = {t.get_gid(): t.get_window_extent(renderer) for t in ax.texts}
    assert len(labels) == len(nodes)
    for gid, text in labels.items():
        box = patches["box:" + gid.removeprefix("label:")]
        assert box.x0 < text.x0 and text.x1 < box.x1 and box.y0 < text.y0 and text.y1 < box.y1, (gid, text, box)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf", ".dot", ".gv", ".PNG"])
def test_the_file_is_in_the_format_its_extension_names(proofs, tmp_path: Path, suffix: str) -> None:
    project = make_project(tmp_path)
    out = proofs("graph", "-o", f"tree{suffix}", cwd=project)
    assert out.returncode == 0, out.stderr
    data = (project / f"tree{suffix}").read_bytes()
    assert data.startswith(MAGIC[suffix.lower()]), data[:40]
    if suffix == ".svg":
        assert b"<svg" in data[:600]


@pytest.mark.parametrize("name", ["tree.jpg", "tree", "tree.txt"])
def test_an_unknown_extension_is_an_input_error(proofs, tmp_path: Path, name: str) -> None:
    project = make_project(tmp_path)
    out = proofs("graph", "-o", name, cwd=project)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{name}: cannot tell the graph format" in out.stderr and ".png, .svg or .pdf" in out.stderr
    assert not (project / name).exists()


def test_dot_carries_each_lemmas_verdict_from_its_certificate(proofs, tmp_path: Path) -> None:
    project = make_project(tmp_path)
    before = proofs("graph", cwd=project).stdout
    assert before.count('status="missing"') == 3
    assert proofs("prove", cwd=project).returncode == 0
    after = proofs("graph", cwd=project).stdout
    assert [after.count(f'status="{s}"') for s in ("proved", "refuted", "unknown", "missing")] == [1, 1, 1, 0]
    assert '"cliff.alignment" [label="cliff.alignment\\nalignment\\nrefuted (as expected)"' in after
    assert '"cliff.alignment" -> "cliff.walk-safe";' in after
    walk = project / "certificates" / "cliff.walk.json"
    walk.write_text(walk.read_text().replace('"status": "proved"', '"status": "refuted"'))
    (project / "certificates" / "cliff.alignment.json").write_text("{not json")
    (project / "certificates" / "cliff.walk-safe.json").unlink()
    edited = proofs("graph", "-o", "tree.dot", cwd=project)
    text = (project / "tree.dot").read_text()
    assert edited.returncode == 0, edited.stderr
    assert [text.count(f'status="{s}"') for s in ("refuted", "unreadable", "missing")] == [1, 1, 1]
    assert "refuted (expected proved)" in text


def test_dot_quotes_and_colours() -> None:
    g = nx.DiGraph()
    g.add_node("a", kind="alignment")
    text = to_dot(g, {"a": LemmaNode("a", "alignment", "unknown")})
    assert 'fillcolor="#ffe8a3"' in text and 'status="unknown"' in text and text.endswith("}\n")


def test_label_names_the_expected_verdict_when_it_differs() -> None:
    assert label_lines(LemmaNode("x", "policy", "refuted")) == ["x", "policy", "refuted (expected proved)"]
    assert label_lines(LemmaNode("x", "policy", "missing", "refuted")) == ["x", "policy", "missing"]
    assert json.dumps(label_lines(LemmaNode("x", "policy", "proved")))  # plain text only
