"""`proofs graph`: the proof tree as Graphviz DOT, or a PNG drawn with matplotlib."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["to_dot", "write_png"]

_SHAPES = {"alignment": "box", "policy": "ellipse", "certificate": "doubleoctagon"}


def to_dot(graph: Any) -> str:
    lines = ["digraph proofs {", "  rankdir=BT;"]
    for node, data in sorted(graph.nodes(data=True)):
        kind = data.get("kind", "?")
        lines.append(f'  "{node}" [label="{node}\\n({kind})", shape={_SHAPES.get(kind, "box")}];')
    for a, b in sorted(graph.edges()):
        lines.append(f'  "{a}" -> "{b}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_png(graph: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    fig, ax = plt.subplots(figsize=(8, 5))
    pos = nx.spring_layout(graph, seed=0)
    nx.draw_networkx(graph, pos, ax=ax, node_color="#cde", node_size=1800, font_size=8, arrows=True)
    ax.set_axis_off()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
