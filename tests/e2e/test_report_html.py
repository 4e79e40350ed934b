"""`proofs report`: one static HTML page of the whole proof tree, a card per lemma with its verdict,
numbers, picture and certificate, every link inside the report folder; opened in headless Chromium.

The example project is copied as it is (the gallery grows): the lemmas are counted from the copied
obligations, never hard-coded. Chromium (Debian's ``chromium`` package) must be installed: without
it the browser test fails, it is not skipped (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import matplotlib.image as mpimg
import numpy as np
import pytest

from proofs.report.graph import LemmaNode
from proofs.report.html import Card, _section, write_report
from proofs.spec.obligation import discover, load_obligations, read_settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
PROJECT = ("worldmodels", "policies", "obligations", "certificates")


def copy_project(target: Path) -> Path:
    for part in PROJECT:
        shutil.copytree(ROOT / part, target / part)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def lemmas_of(root: Path) -> dict[str, tuple[str, str]]:
    """Every declared lemma of the project: id -> (kind, world-model file name)."""
    files = load_obligations(discover(root, read_settings(root / "pyproject.toml")))
    return {lemma.id: (lemma.kind, f.worldmodel_path.name if f.worldmodel_path else "")
            for f in files for lemma in f.lemmas}


class Page(HTMLParser):
    """The lemma cards (id -> classes), every element id, and every link and image target."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.cards: dict[str, list[str]] = {}
        self.ids: set[str] = set()
        self.targets: list[str] = []
        self.images: list[str] = []
        self.tags: set[str] = set()
        self.current: str | None = None
        self.text: dict[str, list[str]] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "section" and "lemma" in a.get("class", "").split():
            self.cards[a["id"]] = a["class"].split()
            self.current = a["id"]
        for key in ("href", "src"):
            if key in a:
                self.targets.append(a[key])
        if tag == "img":
            self.images.append(a["src"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.text.setdefault(self.current, []).append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example project copied, and its report: (project root, index.html)."""
    root = copy_project(tmp_path_factory.mktemp("project"))
    index = write_report(root, root / "report")
    return root, index


def test_one_card_per_lemma_with_its_recorded_verdict(report):
    root, index = report
    assert index == root / "report" / "index.html" and index.is_file()
    page = Page(index.read_text(encoding="utf-8"))
    lemmas = lemmas_of(root)
    assert len(lemmas) >= 7   # the cliff examples at least
    assert sorted(page.cards) == sorted(lemmas)
    for lemma_id, classes in page.cards.items():
        recorded = root / "certificates" / f"{lemma_id}.json"
        status = json.loads(recorded.read_text())["status"] if recorded.is_file() else "missing"
        assert status in classes, (lemma_id, classes)
        assert lemmas[lemma_id][0] in "".join(page.text[lemma_id])


def test_every_link_stays_inside_the_report_and_exists(report):
    root, index = report
    folder = index.parent
    page = Page(index.read_text(encoding="utf-8"))
    assert "script" not in page.tags and "link" not in page.tags   # no JavaScript, no external style sheet
    assert len(page.targets) > 2 * len(page.cards)
    for target in page.targets:
        parts = urlsplit(target)
        assert not parts.scheme and not parts.netloc, f"{target}: the report must not fetch anything"
        if not parts.path:
            assert parts.fragment in page.ids, f"#{parts.fragment}: no element has this id"
            continue
        file = (folder / unquote(parts.path)).resolve()
        assert file.is_relative_to(folder.resolve()), f"{target} leaves the report folder"
        assert file.is_file(), f"{target} does not exist"
    for lemma_id in page.cards:   # each certificate is linked and is the project's, copied
        copied = folder / "certificates" / f"{lemma_id}.json"
        if (root / "certificates" / f"{lemma_id}.json").is_file():
            assert f"certificates/{lemma_id}.json" in page.targets
            assert copied.read_bytes() == (root / "certificates" / f"{lemma_id}.json").read_bytes()


def test_the_cliff_lemmas_have_their_pictures(report):
    """cliff.toml has a [plot] table: a refuted alignment lemma shows its hack, a policy lemma its
    policy, a safety certificate its policy premise's policy; a proved alignment lemma has none."""
    root, index = report
    page = Page(index.read_text(encoding="utf-8"))
    drawn = {}
    for lemma_id, (kind, world) in lemmas_of(root).items():
        if world != "cliff.toml":
            continue
        status = json.loads((root / "certificates" / f"{lemma_id}.json").read_text())["status"]
        drawn[lemma_id] = kind != "alignment" or status == "refuted"
    assert {"cliff.alignment", "careful.walk-policy", "careful.safe"} <= {k for k, v in drawn.items() if v}
    assert "careful.alignment" in drawn and not drawn["careful.alignment"]
    for lemma_id, expected in drawn.items():
        source = f"pictures/{lemma_id}.png"
        assert (source in page.images) == expected, lemma_id
        if expected:
            image = mpimg.imread(index.parent / source)
            assert image.ndim == 3 and min(image.shape[:2]) > 100
            assert len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 20   # a drawing, not blank
    tree = (index.parent / "tree.svg").read_text(encoding="utf-8")
    assert tree.startswith("<?xml") and all(f"box:{lemma_id}" in tree for lemma_id in page.cards)


def test_the_numbers_and_the_margin_are_shown(report):
    _, index = report
    page = Page(index.read_text(encoding="utf-8"))
    hack = " ".join(page.text["cliff.alignment"])
    assert "0.98125 (157/160)" in hack and "0.1 (1/10)" in hack and "VIOLATED" in hack
    assert "P<=1/100 [ F \"fatal\" ]" in hack   # escaped in the file, read back as text
    careful = " ".join(page.text["careful.alignment"])
    assert "margin ε*" in careful and "317/16000" in careful
    policy = " ".join(page.text["cliff.walk-policy"])
    assert "J(policy)" in policy and "57/64" in policy and "(allowed: 1/10)" in policy


def test_a_stale_or_missing_certificate_shows_no_numbers(tmp_path):
    root = copy_project(tmp_path / "project")
    for other in (root / "obligations").glob("*.toml"):   # the cliff lemmas are enough here
        if not other.name.startswith("cliff"):
            other.unlink()
    world = root / "worldmodels" / "cliff.toml"
    world.write_text(world.read_text(encoding="utf-8") + "\n# edited after the proofs\n", encoding="utf-8")
    (root / "certificates" / "cliff.run-policy.json").unlink()
    index = write_report(root, tmp_path / "out")
    page = Page(index.read_text(encoding="utf-8"))
    stale = " ".join(page.text["cliff.alignment"])
    assert "STALE" in stale and "157/160" not in stale and "pictures/cliff.alignment.png" not in page.images
    missing = " ".join(page.text["cliff.run-policy"])
    assert "no certificate yet" in missing and "certificates/cliff.run-policy.json" not in page.targets
    assert "missing" in page.cards["cliff.run-policy"]


def test_text_from_the_project_is_escaped():
    card = Card(LemmaNode("a<b", "policy", "proved"), "obligations/<x>.toml", "<script>alert(1)</script>",
                'J & "K"', "accepted", accepted=True, numbers=(("<i>", "1 < 2"),))
    text = _section(card)
    assert "<script>" not in text and "<i>" not in text and "<x>" not in text
    assert "&lt;script&gt;" in text and "J &amp; &quot;K&quot;" in text and 'id="a&lt;b"' in text


def test_a_report_folder_needs_an_existing_parent(tmp_path):
    from proofs.core.errors import InputError

    root = copy_project(tmp_path / "project")
    with pytest.raises(InputError, match="does not exist"):
        write_report(root, tmp_path / "no" / "such" / "report")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        write_report(root, tmp_path / "file")


# -- in a real browser ---------------------------------------------------------------------------------


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is not installed: install Debian's chromium package (apt-get install -y "
                    "chromium); .ci/run installs it. The report must be checked in a real browser")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--window-size=1200,2000"]
    run = subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_chromium_renders_every_card(report, tmp_path):
    root, index = report
    url = index.resolve().as_uri()
    shot = tmp_path / "page.png"
    chromium(f"--screenshot={shot}", url, profile=tmp_path / "profile-1")
    dom = chromium("--dump-dom", url, profile=tmp_path / "profile-2").stdout
    assert len(re.findall(r'<section class="lemma[ "]', dom)) == len(lemmas_of(root))
    assert "cliff.alignment" in dom and "<script" not in dom
    image = mpimg.imread(shot)
    assert image.shape[:2] == (2000, 1200)
    pixels = image[..., :3].reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 100, "the screenshot is (nearly) blank"
    assert (pixels.min(axis=1) < 0.9).mean() > 0.02, "the screenshot is (nearly) all white"
