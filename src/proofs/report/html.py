"""`proofs report -o DIR`: the whole proof tree as one static HTML page a person can read.

UNTRUSTED report. It writes ``DIR/index.html``, the proof tree drawn by `proofs graph`
(``DIR/tree.svg``), one picture per lemma that has one (``DIR/pictures/<id>.png``) and a copy of
the project's certificates folder (``DIR/certificates/``), so that the folder is self-contained:
plain HTML with inline CSS, no script, nothing fetched from the network.

Each lemma is one card: its id, kind and recorded verdict (as `proofs graph` shows it, coloured),
its statement in words and formally, and what the kernel says of its certificate against the
current inputs (`proofs.prooftree.verify.Checker`, as `proofs explain` runs it). Only an accepted
certificate shows its numbers and picture: a stale or rejected one is about other inputs. The
pictures are those of `proofs explain --plot`, over models whose world file has a ``[plot]``
table: a refuted alignment lemma's reward hack, a policy lemma's policy, a safety certificate's
policy premise's policy.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from proofs.core.certificate import relative, write_atomic
from proofs.core.certificates import (
    AlignmentBody,
    Certificate,
    CompositionBody,
    PolicyBody,
    text_of,
)
from proofs.core.enclosure import Enclosure
from proofs.core.errors import CheckFailure, EngineError, InputError, Location
from proofs.report.graph import LemmaNode, label_lines

if TYPE_CHECKING:
    from proofs.prooftree.verify import Checker
    from proofs.spec.obligation import Lemma, ObligationFile

__all__ = ["Card", "write_report"]

TREE = "tree.svg"
PICTURES = "pictures"
CERTIFICATES = "certificates"

_CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 70em; color: #222; background: #fff; }
h1 { margin-bottom: 0.2em; }
.tree { overflow-x: auto; border: 1px solid #ccc; background: #fafafa; }
.tree img { display: block; }
table.summary { border-collapse: collapse; margin: 1em 0; }
table.summary td, table.summary th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
section.lemma { border: 1px solid #bbb; border-left: 0.6em solid #757575; border-radius: 4px;
                margin: 1.2em 0; padding: 0.4em 1em 1em; }
section.lemma.proved { border-left-color: #2e7d32; }
section.lemma.refuted { border-left-color: #c62828; }
section.lemma.unknown { border-left-color: #a07800; }
.verdict { display: inline-block; padding: 0.1em 0.6em; border-radius: 3px; font-weight: bold;
           background: #eeeeee; color: #424242; }
.verdict.proved { background: #b9e4b0; color: #1b5e20; }
.verdict.refuted { background: #f6b8b8; color: #8e0000; }
.verdict.unknown { background: #ffe8a3; color: #6d5200; }
.surprise { font-weight: bold; color: #c62828; }
.kind, .note { color: #666; }
code, .formal { font-family: monospace; }
.formal { background: #f4f4f4; padding: 0.3em 0.5em; display: block; white-space: pre-wrap; }
table.numbers td { padding: 0.1em 1em 0.1em 0; vertical-align: top; }
img.picture { max-width: 36em; display: block; margin-top: 0.6em; }
"""


@dataclass(frozen=True)
class Card:
    """What the page says about one lemma; every path is relative to the report folder."""

    node: LemmaNode
    obligation: str
    words: str
    formal: str
    check: str                       # what the kernel says of the certificate
    accepted: bool
    numbers: tuple[tuple[str, str], ...] = ()
    premises: tuple[str, ...] = ()   # a composition's premises, linked to their cards
    margin: str | None = None
    picture: str | None = None
    note: str | None = None          # why there is no picture, or the engine's comment
    certificate: str | None = None


def write_report(root: Path, output: Path) -> Path:
    """Write the report of the project at `root` into the folder `output`; return its index.html.

    Parameters
    ----------
    root
        The project root (the folder of pyproject.toml).
    output
        The report folder: created if missing (its parent must exist); files already in it are
        replaced, others left alone.

    Returns
    -------
    pathlib.Path
        ``output / "index.html"``.

    Raises
    ------
    InputError, InputErrors
        For bad obligation files or settings, or an output folder that cannot be one.
    EngineError
        When matplotlib (the ``plot`` extra) is not installed.
    """
    from proofs.prooftree.plan import find_root, proof_graph
    from proofs.prooftree.verify import Checker
    from proofs.report.graph import lemma_nodes, write_graph
    from proofs.spec.obligation import discover, load_obligations, read_settings

    root = find_root(root.resolve())
    _make_folder(output)
    settings = read_settings(root / "pyproject.toml")
    files = load_obligations(discover(root, settings))
    graph = proof_graph(files)
    nodes = lemma_nodes(graph, files, root / settings.certificates)
    write_graph(graph, nodes, output / TREE)
    _copy_folder(root / settings.certificates, output / CERTIFICATES)
    checker = Checker(root, settings.certificates)
    cards = [_card(checker, root / settings.certificates, output, nodes[lemma.id], lemma, f.for_lemma(lemma))
             for f in files for lemma in f.lemmas]
    index = output / "index.html"
    write_atomic(index, _page(_project_name(root), cards).encode("utf-8"))
    return index


def _project_name(root: Path) -> str:
    """The ``[project] name`` of pyproject.toml (read before, so it reads), else the folder's name."""
    import tomllib

    pyproject = root / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project") if pyproject.is_file() else None
    name = project.get("name") if isinstance(project, dict) else None
    return name if isinstance(name, str) else root.name


def _make_folder(output: Path) -> None:
    if output.exists() and not output.is_dir():
        raise InputError(Location(output), "the report folder is a file", "Give -o a folder (it is created)")
    if not output.parent.is_dir():
        raise InputError(Location(output), f"the folder {str(output.parent)!r} does not exist",
                         f"Create it first (mkdir -p {output.parent}), or give -o a folder inside an existing one")
    output.mkdir(exist_ok=True)


def _copy_folder(source: Path, target: Path) -> None:
    """Copy the certificates folder's files (certificates and their sidecars), each atomically."""
    if not source.is_dir():
        return
    for path in sorted(source.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            write_atomic(target / path.name, path.read_bytes())


# -- one card ------------------------------------------------------------------------------------------


def _card(checker: Checker, certificates: Path, output: Path, node: LemmaNode, lemma: Lemma,
          obligation: ObligationFile) -> Card:
    from proofs.prooftree.verify import StaleCertificate, UnreadableInput
    from proofs.spec.obligation import statement_of

    statement = statement_of(lemma, obligation.objective)
    path = certificates / f"{lemma.id}.json"
    base = Card(node, relative(obligation.path, checker.root), statement["words"], statement["formal"],
                "no certificate yet: run `proofs prove`", accepted=False)
    if not path.is_file():
        return base
    base = replace(base, certificate=f"{CERTIFICATES}/{quote(path.name)}")
    try:
        doc = checker.check_file(path)
    except CheckFailure as exc:
        word = ("STALE: its inputs changed since it was made" if isinstance(exc, StaleCertificate) else
                "UNREADABLE: an input cannot be read" if isinstance(exc, UnreadableInput) else
                "REJECTED: the kernel does not accept it")
        return replace(base, check=f"{word} ({exc}). Run `proofs prove` to bring it up to date")
    certificate = Certificate.from_json(doc)
    picture, note = _picture(checker, path, doc, output / PICTURES / f"{lemma.id}.png")
    return replace(base, check="the kernel accepts the certificate against the current inputs", accepted=True,
                   numbers=_numbers(certificate), margin=_margin(certificate), premises=_premises(certificate),
                   picture=f"{PICTURES}/{quote(lemma.id)}.png" if picture else None, note=note or certificate.reason)


def _number(e: Enclosure) -> str:
    """``0.98125 (157/160)``: a decimal of 8 significant digits, with the exact value when short."""
    def decimal(x: Fraction) -> str:
        if x.denominator == 1:
            return str(x.numerator)
        with localcontext() as context:
            context.prec = 8
            return str((Decimal(x.numerator) / Decimal(x.denominator)).normalize()).replace("E", "e")

    if not e.is_exact:
        return f"in [{decimal(e.lo)}, {decimal(e.hi)}]"
    exact = str(e.lo)
    shown = decimal(e.lo)
    return shown if shown == exact or len(exact) > 24 else f"{shown} ({exact})"


def _holds(holds: bool | None) -> str:
    return {True: "holds", False: "VIOLATED", None: "undecided"}[holds]


def _numbers(certificate: Certificate) -> tuple[tuple[str, str], ...]:
    body = certificate.body
    if isinstance(body, PolicyBody):
        v = body.values
        return (("J(policy)", _number(v.j_policy)), ("J*", _number(v.j_star)),
                ("gap J* − J(policy)", f"{_number(v.gap)} (allowed: {text_of(body.epsilon)})"))
    if isinstance(body, AlignmentBody):
        rows = [("J*", f"{_number(body.values.j_star)}; near-optimal means J ≥ J* − {text_of(body.epsilon)}")]
        rows += [(f"worst {r.constraint}", (f"{_number(r.worst)} over the near-optimal policies "
                  f"(threshold {text_of(r.threshold)}): {_holds(r.holds)}")) for r in body.values.constraints]
        return tuple(rows)
    assert isinstance(body, CompositionBody)
    return tuple((r.constraint, (f"{_number(r.value)} under the policy (threshold {text_of(r.threshold)}): "
              f"{_holds(r.holds)}")) for r in body.values.direct)


def _premises(certificate: Certificate) -> tuple[str, ...]:
    body = certificate.body
    return body.values.premises if isinstance(body, CompositionBody) else ()


def _margin(certificate: Certificate) -> str | None:
    """The margin ε* (engine commentary: the lemma holds for every ε below it)."""
    body = certificate.body
    if not isinstance(body, AlignmentBody) or body.values.margin is None:
        return None
    margin = body.values.margin
    if isinstance(margin, str):
        return "inf: no policy at all violates Φ, so the lemma holds for every ε"
    if margin.hi > 0:
        return f"{_number(margin)}: the lemma holds for every ε below it, and fails for every one above"
    if certificate.status == "proved":
        return "0: the lemma holds at ε = 0 only (optimal policies satisfy Φ, on the edge)"
    return "0: the lemma already fails at ε = 0 (even optimal policies violate Φ)"


# -- its picture ----------------------------------------------------------------------------------------


def _picture(checker: Checker, path: Path, doc: dict[str, Any], target: Path) -> tuple[bool, str | None]:
    """Draw what an accepted certificate is about (as `proofs explain --plot` does) into `target`:
    whether a picture was drawn, and else why not (``None`` when there is nothing to draw)."""
    from proofs.report.plot import NothingToDraw, certificate_drawing, plot_policy

    try:
        drawing = certificate_drawing(checker, path, doc)
    except NothingToDraw:
        return False, None
    if drawing.model.grid is None:
        shown = relative(drawing.world, checker.root)
        return False, f"No picture: {shown} has no [plot] table saying where each state is drawn."
    try:
        plot_policy(drawing.model, drawing.policy, drawing.horizon, title=drawing.title, path=target)
    except ImportError as exc:
        raise EngineError(f"{exc}; the report draws pictures") from None
    except ValueError as exc:   # a state without a cell
        return False, f"No picture: the model cannot be drawn ({exc})."
    return True, None


# -- the page -------------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _verdict(node: LemmaNode) -> str:
    """The coloured verdict, with the expected one when it differs (then marked as a surprise)."""
    text = label_lines(node)[2]
    badge = f'<span class="verdict {_e(node.status)}">{_e(text)}</span>'
    if node.status != node.expected:
        badge += ' <span class="surprise">not as expected</span>'
    return badge


def _section(card: Card) -> str:
    node = card.node
    lines = [f'<section class="lemma {_e(node.status)}" id="{_e(node.id)}">',
             (f'<h2><a href="#{_e(quote(node.id))}">{_e(node.id)}</a> <span class="kind">{_e(node.kind)} lemma, '
             f"{_e(card.obligation)}</span></h2>"),
             f"<p>{_verdict(node)}</p>",
             f"<p>{_e(card.words)}</p>",
             f'<code class="formal">{_e(card.formal)}</code>',
             f"<p>Kernel: {_e(card.check)}.</p>"]
    if card.numbers or card.premises:
        lines.append('<table class="numbers">')
        if card.premises:
            links = ", ".join(f'<a href="#{_e(quote(p))}">{_e(p)}</a>' for p in card.premises)
            lines.append(f"<tr><td>premises</td><td>{links}</td></tr>")
        lines += [f"<tr><td>{_e(name)}</td><td>{_e(value)}</td></tr>" for name, value in card.numbers]
        if card.margin is not None:
            lines.append(f"<tr><td>margin ε*</td><td>{_e(card.margin)} "
                         '<span class="note">(engine commentary, not checked by the kernel)</span></td></tr>')
        lines.append("</table>")
    if card.picture is not None:
        lines.append(f'<img class="picture" src="{_e(card.picture)}" alt="{_e(_alt(node))}">')
    if card.note:
        lines.append(f'<p class="note">{_e(card.note)}</p>')
    if card.certificate is not None:
        lines.append(f'<p><a href="{_e(card.certificate)}">certificate ({_e(node.id)}.json)</a></p>')
    lines.append("</section>")
    return "\n".join(lines)


def _alt(node: LemmaNode) -> str:
    if node.kind == "alignment":
        return f"The reward hack of {node.id} over the grid: visits as a heat map, moves as arrows"
    return f"The policy of {node.id} over the grid: visits as a heat map, moves as arrows"


def _summary(cards: Sequence[Card]) -> str:
    rows = [f'<tr><td><a href="#{_e(quote(c.node.id))}">{_e(c.node.id)}</a></td><td>{_e(c.node.kind)}</td>'
            f"<td>{_verdict(c.node)}</td></tr>" for c in cards]
    return ('<table class="summary"><tr><th>lemma</th><th>kind</th><th>verdict</th></tr>\n'
            + "\n".join(rows) + "\n</table>")


def _counts(cards: Iterable[Card]) -> str:
    statuses: dict[str, int] = {}
    unexpected = 0
    for c in cards:
        statuses[c.node.status] = statuses.get(c.node.status, 0) + 1
        unexpected += c.node.status != c.node.expected
    parts = [f"{n} {status}" for status, n in sorted(statuses.items())]
    tail = "all as expected" if not unexpected else f"{unexpected} not as expected"
    return f"{sum(statuses.values())} lemmas: " + ", ".join(parts) + f"; {tail}"


def _page(project: str, cards: Sequence[Card]) -> str:
    title = f"Proof report: {project}"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{_e(title)}</h1>",
        (f"<p>{_e(_counts(cards))}. Verdicts are those recorded in the certificates; each card says whether "
        "the kernel accepts its certificate against the current inputs (as <code>proofs check</code> does).</p>"),
        f'<div class="tree"><img src="{TREE}" alt="The proof tree: each lemma with its verdict, premises below"></div>',
        _summary(cards),
        *(_section(c) for c in cards),
        "</body>", "</html>", ""])
