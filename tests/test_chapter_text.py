"""The chapters' headings and the parts of the table of contents, checked in the sources.

The book numbers chapters and sections itself (``numbered: true`` in _toc.yml),
so a heading with a number of its own would read "1.2.1. 2.1 Content
addressing" on the site; a title naming a number ("DNC part 1") would contradict
the chapter's number.
"""

import re

import nbformat
import pytest
import yaml

from book_support import ROOT, chapter_title, chapters

CHAPTERS = chapters()
HAND_NUMBER = re.compile(r"^(#{1,6})\s+\d+(\.\d+)*\.?\s")
PARTS = {
    "The Neural Turing Machine": ["01"],
    "The Differentiable Neural Computer": ["02", "03", "04", "05", "06", "07"],
    "Beyond the DNC": ["08", "09"],
}


def markdown_headings(path):
    nb = nbformat.read(str(path), as_version=4)
    return [
        line
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("#")
    ]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_headings_carry_no_numbers(notebook):
    numbered = [line for line in markdown_headings(notebook) if HAND_NUMBER.match(line)]
    assert not numbered, f"{notebook.name}: the book numbers sections itself; drop the numbers of {numbered}"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_title_names_no_number(notebook):
    title = chapter_title(notebook)
    assert not re.search(r"\b(part|chapter)\s+\d", title, re.I), f"{notebook.name}: title {title!r}"


def test_heading_check_catches_numbers():
    assert HAND_NUMBER.match("### 2.1 Content addressing")
    assert HAND_NUMBER.match("## 1. The idea")
    assert not HAND_NUMBER.match("### Exercise 1.1: Circular shift")
    assert not HAND_NUMBER.match("## Content addressing")


def test_toc_parts():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    captions = [part["caption"] for part in toc["parts"]]
    assert captions == ["Getting started", *PARTS, "Reference"], captions
    for part in toc["parts"]:
        files = [c["file"] for c in part["chapters"]]
        if part["caption"] in PARTS:
            assert part.get("numbered") is True, part["caption"]
            numbers = [re.match(r"notebooks/(\d\d)_", f).group(1) for f in files]
            assert numbers and set(numbers) <= set(PARTS[part["caption"]]), (part["caption"], files)
        else:
            assert not any(f.startswith("notebooks/") for f in files), (part["caption"], files)


READING = re.compile(r"Time: about (\d+) minutes of reading")


def header_minutes(notebook):
    """The reading time a chapter's first cells state, in minutes."""
    nb = nbformat.read(str(notebook), as_version=4)
    found = [int(m.group(1)) for cell in nb.cells[:3] if cell.cell_type == "markdown"
             for m in [READING.search(cell.source)] if m]
    assert len(found) == 1, f"{notebook.name}: no 'Time: about N minutes of reading' line"
    return found[0]


def test_reading_times_agree_across_the_book():
    headers = {p.stem: header_minutes(p) for p in CHAPTERS}
    intro = (ROOT / "book" / "intro.md").read_text()
    in_map = {stem: int(m) for stem, m in re.findall(
        r"\{doc\}`\.\./notebooks/(\w+)` \|[^|]*\| ≈ (\d+) min \|", intro)}
    assert in_map == headers, "the intro's map and the chapters' headers give other reading times"
    total = re.search(r"In all, about (\d+) minutes of reading", intro)
    assert total and int(total.group(1)) == sum(headers.values())
    guide = (ROOT / "book" / "instructor_guide.md").read_text()
    in_guide = {int(n): int(m) for n, m in re.findall(r"^\| (\d)\. [^|]+\| about (\d+) min \|", guide,
                                                       re.MULTILINE)}
    assert in_guide == {int(stem[:2]): minutes for stem, minutes in headers.items()}, \
        "the instructor guide's table and the chapters' headers give other reading times"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_prerequisites_link_the_notation_page(notebook):
    nb = nbformat.read(str(notebook), as_version=4)
    head = "\n".join(cell.source for cell in nb.cells[:3] if cell.cell_type == "markdown")
    assert "Prerequisites" in head and "(../book/notation.md)" in head, notebook.name


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_diagram_code_is_folded_on_the_site(notebook):
    """The matplotlib code that draws an architecture diagram is not the lesson: fold it."""
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and re.search(r"FancyBboxPatch\(|def draw_box", cell.source):
            tags = cell.metadata.get("tags", [])
            assert "hide-input" in tags or "hide-cell" in tags, (notebook.name, cell.source[:60])
