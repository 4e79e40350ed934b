"""`proofs graph`: the proof tree with each lemma's verdict, as DOT text or a drawing.

UNTRUSTED report. A lemma's verdict is the status recorded in its certificate
(``certificates/<id>.json``): ``proved``, ``refuted`` or ``unknown``; ``missing`` when there is
no certificate yet, ``unreadable`` when the file is not a certificate of that lemma. The drawing
shows what the certificates say; it does not re-check them (`proofs check` does).

The layout is computed here, from the DAG alone (`layout`): layers from the bottom up (a lemma
with no premise in layer 0, a certificate one layer above its highest premise), boxes sized to
their label in a monospaced font, each certificate centred over its premises where there is
room, and every box at least a gap away from its neighbours, so no two boxes overlap and every
label lies inside its box. Drawings are made with matplotlib (the
``plot`` extra) in the format the output file's extension names.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofs.core.errors import EngineError, InputError, Location

__all__ = [
    "DOT_FORMATS",
    "DRAWING_FORMATS",
    "STATUSES",
    "Box",
    "LemmaNode",
    "figure",
    "label_lines",
    "layout",
    "lemma_nodes",
    "to_dot",
    "write_graph",
]

STATUSES = ("proved", "refuted", "unknown", "missing", "unreadable")
DRAWING_FORMATS = (".png", ".svg", ".pdf")
DOT_FORMATS = (".dot", ".gv")
# fill, edge; the verdict is also written in each label, so colour is never the only cue
_COLOURS = {
    "proved": ("#b9e4b0", "#2e7d32"),
    "refuted": ("#f6b8b8", "#c62828"),
    "unknown": ("#ffe8a3", "#a07800"),
    "missing": ("#eeeeee", "#757575"),
    "unreadable": ("#dddddd", "#424242"),
}
FONT_SIZE = 9.0  # points
CHAR_WIDTH = 0.62 * FONT_SIZE  # DejaVu Sans Mono advances 0.602 em; a little more, to be safe
LINE_HEIGHT = 1.4 * FONT_SIZE
PAD_X, PAD_Y = 10.0, 7.0  # inside a box, around its label
GAP_X, GAP_Y = 24.0, 48.0  # between boxes of a layer, between layers


@dataclass(frozen=True)
class LemmaNode:
    """What the drawing says about one lemma."""

    id: str
    kind: str
    status: str  # one of STATUSES
    expected: str = "proved"


@dataclass(frozen=True)
class Box:
    """A node's box: centre (x, y) and size, in points; y grows upwards."""

    x: float
    y: float
    width: float
    height: float

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y - self.height / 2

    @property
    def top(self) -> float:
        return self.y + self.height / 2

    def overlaps(self, other: Box) -> bool:
        return (self.left < other.right and other.left < self.right
                and self.bottom < other.top and other.bottom < self.top)


def _verdict(path: Path, lemma_id: str) -> str:
    if not path.is_file():
        return "missing"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return "unreadable"
    if not isinstance(doc, dict) or not isinstance(doc.get("lemma"), dict) or doc["lemma"].get("id") != lemma_id:
        return "unreadable"
    status = doc.get("status")
    return status if status in ("proved", "refuted", "unknown") else "unreadable"


def lemma_nodes(graph: Any, files: Iterable[Any], certificates: Path) -> dict[str, LemmaNode]:
    """Each lemma of the graph with its kind, its recorded verdict and its expected status.

    Parameters
    ----------
    graph
        The proof DAG (`proofs.prooftree.plan.proof_graph`).
    files
        The obligation files it was made from (for each lemma's ``expect``).
    certificates
        The certificates folder, where ``<id>.json`` is read.
    """
    expected = {x.id: x.expect.value for f in files for x in f.lemmas}
    return {node: LemmaNode(node, str(data.get("kind", "?")), _verdict(certificates / f"{node}.json", node),
                            expected.get(node, "proved"))
            for node, data in graph.nodes(data=True)}


def _nodes_or_default(graph: Any, nodes: Mapping[str, LemmaNode] | None) -> dict[str, LemmaNode]:
    if nodes is not None:
        return dict(nodes)
    return {n: LemmaNode(n, str(d.get("kind", "?")), "missing") for n, d in graph.nodes(data=True)}


def label_lines(node: LemmaNode) -> list[str]:
    """The label of a node: its id, its kind, its verdict (and the expected one when it differs).

    >>> label_lines(LemmaNode("cliff.alignment", "alignment", "refuted", "refuted"))
    ['cliff.alignment', 'alignment', 'refuted (as expected)']
    """
    if node.status == node.expected:
        verdict = node.status if node.expected == "proved" else f"{node.status} (as expected)"
    elif node.status in ("proved", "refuted", "unknown"):
        verdict = f"{node.status} (expected {node.expected})"
    else:
        verdict = node.status
    return [node.id, node.kind, verdict]


def _box_size(lines: Sequence[str]) -> tuple[float, float]:
    return (max(len(line) for line in lines) * CHAR_WIDTH + 2 * PAD_X, len(lines) * LINE_HEIGHT + 2 * PAD_Y)


def _layers(graph: Any) -> list[list[str]]:
    """Bottom-up layers: a node one layer above the highest of its premises (predecessors)."""
    import networkx as nx

    level: dict[str, int] = {}
    for node in nx.lexicographical_topological_sort(graph):
        level[node] = 1 + max((level[p] for p in graph.predecessors(node)), default=-1)
    layers: list[list[str]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for node in sorted(level):
        layers[level[node]].append(node)
    return layers


def _order(graph: Any, layers: list[list[str]]) -> list[list[str]]:
    """Fewer crossings: conclusions above the mean position of their premises, and premises
    below the mean position of their conclusions (two sweeps of the barycentre heuristic)."""
    position = {n: float(i) for layer in layers for i, n in enumerate(layer)}

    def sweep(neighbours: Any, sequence: Iterable[list[str]]) -> None:
        for layer in sequence:
            def key(n: str) -> tuple[float, str]:
                near = [position[m] for m in neighbours(n)]
                return (sum(near) / len(near) if near else position[n], n)

            layer.sort(key=key)
            position.update({n: float(i) for i, n in enumerate(layer)})

    sweep(graph.predecessors, layers[1:])
    sweep(graph.successors, reversed(layers[:-1]))
    sweep(graph.predecessors, layers[1:])
    return layers


def layout(graph: Any, nodes: Mapping[str, LemmaNode] | None = None) -> dict[str, Box]:
    """A box for every node: layered bottom-up, sized to its label, no two overlapping.

    Layer 0 is placed side by side; each node above is centred over its premises where room
    allows, then pushed right just enough to keep the gap from its left neighbour, and the
    layer as a whole is shifted back by the mean displacement (which keeps every gap).

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("a", "c"), ("b", "c")])
    >>> boxes = layout(g)
    >>> boxes["c"].bottom > max(boxes["a"].top, boxes["b"].top)
    True
    >>> boxes["a"].overlaps(boxes["b"])
    False
    """
    nodes = _nodes_or_default(graph, nodes)
    layers = _order(graph, _layers(graph))
    sizes = {n: _box_size(label_lines(nodes[n])) for n in nodes}
    x: dict[str, float] = {}
    for k, layer in enumerate(layers):
        wanted, placed, right = [], [], float("-inf")
        for i, n in enumerate(layer):
            premises = [x[p] for p in graph.predecessors(n)]
            w = sizes[n][0]
            default = right + GAP_X + w / 2 if i else w / 2
            want = sum(premises) / len(premises) if k and premises else default
            at = max(want, right + GAP_X + w / 2) if i else want
            wanted.append(want)
            placed.append(at)
            right = at + w / 2
        shift = sum(p - w for p, w in zip(placed, wanted)) / len(placed) if k and placed else 0.0
        x.update({n: p - shift for n, p in zip(layer, placed)})
    left = min((x[n] - sizes[n][0] / 2 for n in x), default=0.0)
    boxes: dict[str, Box] = {}
    y = 0.0
    for layer in layers:
        height = max(sizes[n][1] for n in layer)
        for n in layer:
            boxes[n] = Box(x[n] - left, y + height / 2, *sizes[n])
        y += height + GAP_Y
    return boxes


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Any, nodes: Mapping[str, LemmaNode] | None = None) -> str:
    """The proof tree as Graphviz DOT: premises below the certificates that use them, each lemma
    labelled with its kind and verdict and filled with its verdict's colour."""
    nodes = _nodes_or_default(graph, nodes)
    lines = ["digraph proofs {", "  rankdir=BT;", '  node [shape=box, style="rounded,filled", fontname="monospace"];']
    for name in sorted(graph.nodes):
        node = nodes[name]
        fill, edge = _COLOURS.get(node.status, _COLOURS["unreadable"])
        label = "\\n".join(_quote(line)[1:-1] for line in label_lines(node))
        style = ', style="rounded,filled,dashed"' if node.status in ("missing", "unreadable") else ""
        lines.append(f'  {_quote(name)} [label="{label}", kind={_quote(node.kind)}, '
                     f'status={_quote(node.status)}, fillcolor="{fill}", color="{edge}"{style}];')
    for a, b in sorted(graph.edges()):
        lines.append(f"  {_quote(a)} -> {_quote(b)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def figure(graph: Any, nodes: Mapping[str, LemmaNode]) -> Any:
    """The drawing as a matplotlib `Figure` (Agg), one unit of its axes one point; each box and
    label carries the gid ``box:<id>`` / ``label:<id>`` (also the ids of an SVG's elements)."""
    try:
        import matplotlib
    except ImportError:
        raise EngineError("drawing the proof tree needs matplotlib: install the plot extra "
                          "(pip install 'proofs[plot]'), or write DOT with -o tree.dot") from None
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    boxes = layout(graph, nodes)
    margin, legend, least = 12.0, 30.0, 320.0  # the legend's row, the least width that holds it
    content = max((b.right for b in boxes.values()), default=0.0)
    width = max(content + 2 * margin, least)
    height = max((b.top for b in boxes.values()), default=0.0) + 2 * margin + legend
    fig = Figure(figsize=(width / 72, height / 72), dpi=144)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    left = (content - width) / 2
    ax.set_xlim(left, left + width)
    ax.set_ylim(-margin - legend, height - margin - legend)
    ax.set_axis_off()
    for a, b in sorted(graph.edges()):
        start, end = boxes[a], boxes[b]
        ax.add_patch(FancyArrowPatch((start.x, start.top), (end.x, end.bottom), arrowstyle="-|>",
                                     mutation_scale=12, color="#555555", linewidth=1.0, shrinkA=0, shrinkB=0))
    for name, box in sorted(boxes.items()):
        node = nodes[name]
        fill, edge = _COLOURS.get(node.status, _COLOURS["unreadable"])
        dashed = node.status in ("missing", "unreadable")
        ax.add_patch(FancyBboxPatch((box.left, box.bottom), box.width, box.height,
                                    boxstyle="round,pad=0,rounding_size=4", facecolor=fill, edgecolor=edge,
                                    linewidth=1.2, linestyle="--" if dashed else "-", gid=f"box:{name}"))
        ax.text(box.x, box.y, "\n".join(label_lines(node)), ha="center", va="center", fontsize=FONT_SIZE,
                family="DejaVu Sans Mono", linespacing=LINE_HEIGHT / FONT_SIZE / 1.2, gid=f"label:{name}")
    handles = [Patch(facecolor=_COLOURS[s][0], edgecolor=_COLOURS[s][1], label=s) for s in STATUSES[:4]]
    ax.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=FONT_SIZE,
              bbox_to_anchor=(0.5, 0.0))
    return fig


def _draw(graph: Any, nodes: Mapping[str, LemmaNode], fmt: str) -> bytes:
    out = io.BytesIO()
    metadata: dict[str, Any] = {"png": {"Software": None}, "svg": {"Date": None},
                                "pdf": {"CreationDate": None, "ModDate": None}}[fmt]
    figure(graph, nodes).savefig(out, format=fmt, metadata=metadata)
    return out.getvalue()


def write_graph(graph: Any, nodes: Mapping[str, LemmaNode], path: Path) -> None:
    """Write the proof tree to `path` in the format its extension names (atomically).

    ``.dot``/``.gv``: DOT text; ``.png``, ``.svg``, ``.pdf``: a drawing.

    Raises
    ------
    InputError
        For any other extension.
    EngineError
        When a drawing is asked for and matplotlib is not installed.
    """
    from proofs.core.certificate import write_atomic

    suffix = path.suffix.lower()
    if suffix in DOT_FORMATS:
        data = to_dot(graph, nodes).encode()
    elif suffix in DRAWING_FORMATS:
        data = _draw(graph, nodes, suffix[1:])
    else:
        shown = suffix or "no extension"
        raise InputError(Location(path), f"cannot tell the graph format from {shown!r}",
                         "Name the output .png, .svg or .pdf for a drawing, or .dot/.gv for Graphviz DOT text")
    write_atomic(path, data)
